/**
 * The cluster's PKI as kubeha checks it, on the worker with node's crypto (no tools needed on
 * the host): the CA public key pin joins are discovered with, and whether a certificate key
 * opens the certificates kubeadm uploaded.
 */
import { createDecipheriv, createHash, X509Certificate } from 'node:crypto';

/**
 * `sha256:<hex>` of the CA certificate's SubjectPublicKeyInfo (DER): kubeadm's
 * `--discovery-token-ca-cert-hash`, as `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum` computes it.
 */
export function caCertHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** AES-GCM as Go's crypto/cipher seals: 12-byte nonce first, 16-byte tag last. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Decrypts one value of Secret kube-system/kubeadm-certs with a certificate key. kubeadm
 * encrypts each certificate with AES-GCM under the 32-byte key (`kubeadm certs certificate-key`);
 * a wrong key fails authentication, which is what `kubeadm join` reports as
 * "cipher: message authentication failed". Returns undefined when the key does not open it.
 */
export function openUploadedCert(sealed: Buffer, certificateKeyHex: string): Buffer | undefined {
  const key = Buffer.from(certificateKeyHex, 'hex');
  if (key.length !== 32 || sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** What the Secret kube-system/kubeadm-certs says about a certificate key. */
export interface UploadedCertsCheck {
  /** The certificate key decrypts the uploaded cluster CA certificate. */
  opens: boolean;
  /** The id of the bootstrap token whose expiry deletes the Secret (its owner), if any. */
  ownerTokenId?: string;
}

/**
 * Checks a certificate key against the Secret (JSON of `kubectl get secret kubeadm-certs -o json`):
 * the key must decrypt `ca.crt` into a PEM certificate.
 */
export function checkUploadedCerts(secretJson: string, certificateKeyHex: string): UploadedCertsCheck {
  const secret = JSON.parse(secretJson) as {
    data?: Record<string, string>;
    metadata?: { ownerReferences?: { kind?: string; name?: string }[] };
  };
  const sealed = secret.data?.['ca.crt'];
  const plain = sealed ? openUploadedCert(Buffer.from(sealed, 'base64'), certificateKeyHex) : undefined;
  const owner = secret.metadata?.ownerReferences?.find((o) => o.kind === 'Secret' && o.name?.startsWith('bootstrap-token-'));
  return {
    opens: plain !== undefined && plain.toString('utf8').includes('-----BEGIN CERTIFICATE-----'),
    ownerTokenId: owner?.name?.slice('bootstrap-token-'.length),
  };
}
