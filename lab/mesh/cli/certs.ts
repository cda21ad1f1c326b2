/**
 * Certificate rules of Linkerd's identity, with node:crypto: the validity, expiry, algorithm and chain
 * checks `linkerd install` applies to the issuer it is given and `linkerd check` applies to what the
 * cluster holds, with the error texts of Go's crypto/x509 and linkerd2's issuercerts package.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';

/** `linkerd check` warns when a certificate expires within this many days. */
export const EXPIRY_WARNING_DAYS = 60;
const DAY_MS = 86_400_000;

/** Text that holds no certificate, or a key that cannot be read, as linkerd2's pkg/tls says it. */
export class PemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PemError';
  }
}

/** Every certificate of a PEM bundle; throws {@link PemError} when there is none. */
export function decodeCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new PemError('not PEM-encoded');
  return blocks.map((block) => new X509Certificate(block));
}

/** Go's RFC 3339 rendering of a time, to the second, in UTC. */
export function goTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The serial number as Go's %v of a big.Int prints it (decimal). */
export function serialOf(cert: X509Certificate): string {
  return BigInt(`0x${cert.serialNumber}`).toString(10);
}

/** The subject's common name. */
export function commonNameOf(cert: X509Certificate): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
}

/** issuercerts.CheckCertValidityPeriod: undefined when `now` is inside the validity period. */
export function validityError(cert: X509Certificate, now: Date): string | undefined {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (notBefore > now) return `not valid before: ${goTime(notBefore)}`;
  if (notAfter < now) return `not valid anymore. Expired on ${goTime(notAfter)}`;
  return undefined;
}

/** issuercerts.CheckExpiringSoon: undefined unless the certificate expires within 60 days. */
export function expiringSoonError(cert: X509Certificate, now: Date): string | undefined {
  const notAfter = new Date(cert.validTo);
  return now.getTime() + EXPIRY_WARNING_DAYS * DAY_MS > notAfter.getTime() ? `will expire on ${goTime(notAfter)}` : undefined;
}

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

/** issuercerts' algorithm rules: ECDSA P-256 for issuers; ECDSA P-256 or RSA ≥ 2048 for anchors. */
export function algorithmError(cert: X509Certificate, role: 'issuer' | 'anchor'): string | undefined {
  const type = cert.publicKey.asymmetricKeyType;
  const details = cert.publicKey.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    const bits = CURVE_BITS[details.namedCurve ?? ''] ?? 0;
    return bits === 256 ? undefined : `must use P-256 curve for public key, instead P-${bits} was used`;
  }
  if (type === 'rsa' && role === 'anchor') {
    return (details.modulusLength ?? 0) >= 2048 ? undefined : `must use at least 2048 bits for RSA public key, instead ${details.modulusLength} was used`;
  }
  const name = type === 'rsa' ? 'RSA' : type === 'ed25519' ? 'Ed25519' : String(type);
  return role === 'issuer'
    ? `issuer certificate must use ECDSA for public key algorithm, instead ${name} was used`
    : `trust anchor must use ECDSA or RSA for public key algorithm, instead ${name} was used`;
}

/**
 * Go's `Certificate.Verify` against a pool of anchors, for the one-link chains Linkerd uses: undefined
 * when an anchor signed `cert`, else crypto/x509's "signed by unknown authority" text.
 */
export function chainError(cert: X509Certificate, anchors: X509Certificate[], now: Date): string | undefined {
  const candidates = anchors.filter((a) => a.subject === cert.issuer);
  for (const anchor of candidates) {
    if (cert.verify(anchor.publicKey)) {
      const expired = validityError(anchor, now);
      return expired ? `x509: certificate has expired or is not yet valid: ${expired}` : undefined;
    }
  }
  const candidate = candidates[0];
  if (candidate) {
    const algo = cert.publicKey.asymmetricKeyType === 'ec' ? 'ECDSA' : 'RSA';
    return `x509: certificate signed by unknown authority (possibly because of "x509: ${algo} verification failure" while trying to verify candidate authority certificate "${commonNameOf(candidate)}")`;
  }
  return 'x509: certificate signed by unknown authority';
}

/** pkg/tls ValidateAndCreateCreds: the key must read (EC, RSA or PKCS#8 PEM) and match the certificate. */
export function keyError(cert: X509Certificate, keyPem: string): string | undefined {
  const block = /-----BEGIN ([A-Z ]+)-----/.exec(keyPem);
  if (!block) return 'not PEM-encoded';
  if (!['EC PRIVATE KEY', 'RSA PRIVATE KEY', 'PRIVATE KEY'].includes(block[1])) return `unsupported PEM type: ${block[1]}`;
  let publicDer: Buffer;
  try {
    publicDer = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  } catch (err) {
    return (err as Error).message;
  }
  return publicDer.equals(cert.publicKey.export({ type: 'spki', format: 'der' })) ? undefined : 'tls: Public and private key do not match';
}
