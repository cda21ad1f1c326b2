/**
 * Keys and certificates as kubeadm makes them (cmd/kubeadm/app/util/pkiutil): self-signed CAs of
 * 10 years, leaf certificates of 1 year signed by them, RSA 2048 (PKCS#1 PEM) or ECDSA P-256 keys.
 * Built with @peculiar/x509 over node's WebCrypto.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';

type CryptoKey = webcrypto.CryptoKey;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const subtle = webcrypto.subtle;
const generateKeyPairAsync = promisify(generateKeyPair);

/** kubeadm's ClusterConfiguration.encryptionAlgorithm values the lab supports. */
export type EncryptionAlgorithm = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'ECDSA-P256';

/** A key pair usable for signing, with its PEM as kubeadm writes it. */
export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC 1), as kubeadm's keyutil writes them. */
  privatePem: string;
  /** `PUBLIC KEY` (PKIX). */
  publicPem: string;
}

/** A certificate with its key. */
export interface CertAndKey {
  cert: x509.X509Certificate;
  certPem: string;
  key: KeyPair;
}

const RSA_SIGN = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

function isEc(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec';
}

async function toKeyPair(privateKey: KeyObject): Promise<KeyPair> {
  const publicKey = createPublicKey(privateKey);
  const ec = isEc(privateKey);
  const importAlg = ec ? { name: 'ECDSA', namedCurve: 'P-256' } : RSA_SIGN;
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey: await subtle.importKey('pkcs8', pkcs8, importAlg, true, ['sign']),
    publicKey: await subtle.importKey('spki', spki, importAlg, true, ['verify']),
    privatePem: privateKey.export({ type: ec ? 'sec1' : 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A new key of kubeadm's configured algorithm. */
export async function newKey(algorithm: EncryptionAlgorithm = 'RSA-2048'): Promise<KeyPair> {
  if (algorithm === 'ECDSA-P256') {
    const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    return toKeyPair(privateKey);
  }
  const bits = Number(algorithm.slice(4));
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits });
  return toKeyPair(privateKey);
}

/** Reads a private key PEM (any format node understands). */
export function loadKey(pem: string): Promise<KeyPair> {
  return toKeyPair(createPrivateKey(pem));
}

/** What a certificate is for. */
export interface CertSpec {
  commonName: string;
  organizations?: string[];
  /** Extended key usages. */
  usages: ('server' | 'client')[];
  dnsNames?: string[];
  ips?: string[];
  validityMs: number;
}

/** The backdate kubeadm applies to NotBefore (clock skew between hosts). */
const BACKDATE_MS = 5 * 60_000;

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

function subjectName(commonName: string, organizations: string[] = []): x509.JsonName {
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

function signingAlgorithm(key: CryptoKey): typeof RSA_SIGN | typeof EC_SIGN {
  return key.algorithm.name === 'ECDSA' ? EC_SIGN : RSA_SIGN;
}

function keyUsages(key: CryptoKey, ca: boolean): number {
  const f = x509.KeyUsageFlags;
  if (ca) return f.digitalSignature | f.keyEncipherment | f.keyCertSign;
  return key.algorithm.name === 'ECDSA' ? f.digitalSignature : f.digitalSignature | f.keyEncipherment;
}

/** A self-signed CA (kubeadm: CN as given, DNS SAN of the CN, 10 years by default). */
export async function newCA(commonName: string, validityMs: number, algorithm: EncryptionAlgorithm): Promise<CertAndKey> {
  const key = await newKey(algorithm);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subjectName(commonName),
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + validityMs),
    keys: { privateKey: key.privateKey, publicKey: key.publicKey },
    signingAlgorithm: signingAlgorithm(key.privateKey),
    extensions: [
      new x509.KeyUsagesExtension(keyUsages(key.privateKey, true), true),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(key.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: commonName }]),
    ],
  });
  return { cert, certPem: cert.toString('pem'), key };
}

/** A leaf certificate signed by `ca`, with a new key unless one is given. */
export async function newCert(ca: CertAndKey, spec: CertSpec, algorithm: EncryptionAlgorithm, existingKey?: KeyPair): Promise<CertAndKey> {
  const key = existingKey ?? (await newKey(algorithm));
  const now = Date.now();
  const usages = spec.usages.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth));
  const names: x509.JsonGeneralName[] = [
    ...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(keyUsages(key.privateKey, false), true),
    new x509.ExtendedKeyUsageExtension(usages),
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.AuthorityKeyIdentifierExtension.create(ca.key.publicKey),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subjectName(spec.commonName, spec.organizations),
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(Math.min(now + spec.validityMs, ca.cert.notAfter.getTime())),
    publicKey: key.publicKey,
    signingKey: ca.key.privateKey,
    signingAlgorithm: signingAlgorithm(ca.key.privateKey),
    extensions,
  });
  return { cert, certPem: cert.toString('pem'), key };
}

/** Signs a PKCS#10 request (the lab's CSR signer for kubelet client certificates). */
export async function signRequest(ca: CertAndKey, csrPem: string, spec: { usages: ('server' | 'client')[]; validityMs: number }): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: csr.subjectName,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(Math.min(now + spec.validityMs, ca.cert.notAfter.getTime())),
    publicKey: await csr.publicKey.export(),
    signingKey: ca.key.privateKey,
    signingAlgorithm: signingAlgorithm(ca.key.privateKey),
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth))),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.key.publicKey),
    ],
  });
  return cert.toString('pem');
}

/** A PKCS#10 request for a subject, signed by the key (kubelet TLS bootstrap). */
export async function newRequest(key: KeyPair, commonName: string, organizations: string[]): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(commonName, organizations),
    keys: { privateKey: key.privateKey, publicKey: key.publicKey },
    signingAlgorithm: signingAlgorithm(key.privateKey),
  });
  return csr.toString('pem');
}

/** Parses a certificate PEM. */
export function parseCert(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

/** kubeadm's CA pin: `sha256:` + hex SHA-256 of the CA's SubjectPublicKeyInfo. */
export function caCertHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
