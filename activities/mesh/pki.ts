/**
 * Linkerd's identity PKI, in process with @peculiar/x509 (no step CLI): a self-signed trust anchor and,
 * per cluster, an issuer CA it signs. ECDSA P-256 throughout (what Linkerd's identity accepts), the
 * issuer with pathlen 0 and key usage certSign + crlSign, Linkerd's conventional names.
 *
 * Private keys leave this module as SEC1 PEM (`EC PRIVATE KEY`): Linkerd's issuer key loader
 * (pkg/tls DecodePEMKey) accepts no other PEM type, and WebCrypto only exports PKCS#8.
 */
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ANCHOR_COMMON_NAME, ISSUER_COMMON_NAME } from '../../common/inputs/linkMeshClusters';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 3600_000;
/** Linkerd check warns when an anchor or issuer expires within this many days. */
export const EXPIRY_WARNING_DAYS = 60;
/** Backdating absorbs clock skew between the worker and the clusters (a certificate's notBefore is this much before it was made). */
export const BACKDATE_MS = 5 * 60_000;

/** A certificate with its SEC1 PEM private key. The key is a secret: keep it in the secret store only. */
export interface KeyedCertificate {
  certificatePem: string;
  keyPem: string;
}

/** What kubeha tells about a certificate (never its key). */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  /** SHA-256 of the DER certificate, hex. */
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  isCa: boolean;
  pathLength?: number;
  keyUsage: string[];
  /** `ECDSA P-256`, `RSA 2048`, ... */
  keyAlgorithm: string;
}

type Key = webcrypto.CryptoKey;
type KeyPair = webcrypto.CryptoKeyPair;

async function toSec1Pem(key: Key): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'sec1', format: 'pem' }).toString();
}

async function importSigningKey(keyPem: string): Promise<Key> {
  const pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', pkcs8, EC_P256, false, ['sign']);
}

async function newKeys(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

function validity(hours: number, now: Date): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + hours * HOUR_MS) };
}

/** Creates a self-signed trust anchor: CA, key usage certSign + crlSign, valid `hours`. */
export async function createTrustAnchor(hours: number, now = new Date()): Promise<KeyedCertificate> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${ANCHOR_COMMON_NAME}`,
    keys: keys as never,
    signingAlgorithm: SIGNING,
    ...validity(hours, now),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { certificatePem: cert.toString('pem'), keyPem: await toSec1Pem(keys.privateKey) };
}

/** Creates an issuer CA (pathlen 0) signed by `anchor`, valid `hours` but never past the anchor. */
export async function createIssuer(anchor: KeyedCertificate, hours: number, now = new Date()): Promise<KeyedCertificate> {
  const anchorCert = new x509.X509Certificate(anchor.certificatePem);
  const keys = await newKeys();
  const wanted = validity(hours, now);
  const notAfter = wanted.notAfter > anchorCert.notAfter ? anchorCert.notAfter : wanted.notAfter;
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${ISSUER_COMMON_NAME}`,
    issuer: anchorCert.subject,
    publicKey: keys.publicKey as never,
    signingKey: (await importSigningKey(anchor.keyPem)) as never,
    signingAlgorithm: SIGNING,
    notBefore: wanted.notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(anchorCert),
    ],
  });
  return { certificatePem: cert.toString('pem'), keyPem: await toSec1Pem(keys.privateKey) };
}

/** Every certificate of a PEM bundle, in order. Throws on text that holds none. */
export function parseCertificates(pem: string): x509.X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('holds no PEM certificate');
  return blocks.map((block) => new x509.X509Certificate(block));
}

const USAGE_NAMES: Array<[x509.KeyUsageFlags, string]> = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.keyCertSign, 'certSign'],
  [x509.KeyUsageFlags.cRLSign, 'crlSign'],
];

function keyAlgorithm(cert: x509.X509Certificate): string {
  const alg = cert.publicKey.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  return [alg.name, alg.namedCurve ?? alg.modulusLength].filter((v) => v !== undefined).join(' ');
}

/** The facts of one certificate. */
export async function certificateFacts(cert: x509.X509Certificate): Promise<CertificateFacts> {
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    fingerprint: Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex'),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    isCa: basic?.ca ?? false,
    pathLength: basic?.pathLength,
    keyUsage: usage ? USAGE_NAMES.filter(([flag]) => (usage.usages & flag) !== 0).map(([, name]) => name) : [],
    keyAlgorithm: keyAlgorithm(cert),
  };
}

/** SHA-256 fingerprints of every certificate in a bundle, sorted: equal sets mean equal trust. */
export async function bundleFingerprints(pem: string): Promise<string[]> {
  const facts = await Promise.all(parseCertificates(pem).map(certificateFacts));
  return facts.map((f) => f.fingerprint).sort();
}

/** Whether `cert` was signed by one of `anchors` (signature and issuer name). */
export async function signedByOneOf(cert: x509.X509Certificate, anchors: x509.X509Certificate[]): Promise<boolean> {
  for (const anchor of anchors) {
    if (anchor.subject !== cert.issuer) continue;
    if (await cert.verify({ publicKey: anchor.publicKey, signatureOnly: true })) return true;
  }
  return false;
}

/** Whether the SEC1/PKCS#8 PEM key is the private half of `cert`'s public key. */
export function keyMatches(cert: x509.X509Certificate, keyPem: string): boolean {
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  return Buffer.from(cert.publicKey.rawData).equals(fromKey);
}

/** Days from `now` until `notAfter` (negative when expired). */
export function daysLeft(notAfter: string | Date, now = new Date()): number {
  return (new Date(notAfter).getTime() - now.getTime()) / (24 * HOUR_MS);
}

/** One problem with trust material, in words, with what it concerns. */
export interface TrustProblem {
  /** `anchors`, `issuer` */
  subject: 'anchors' | 'issuer';
  /** error: Linkerd refuses it; warning: linkerd check warns (expires within 60 days). */
  severity: 'error' | 'warning';
  message: string;
}

/**
 * Checks anchors and an issuer by the rules Linkerd's install and check apply: ECDSA P-256, CAs, within
 * their validity, the issuer signed by an anchor, its key matching; warnings within 60 days of expiry.
 */
export async function checkTrust(anchorsPem: string, issuer: { certificatePem: string; keyPem?: string }, now = new Date()): Promise<TrustProblem[]> {
  const problems: TrustProblem[] = [];
  let anchors: x509.X509Certificate[];
  try {
    anchors = parseCertificates(anchorsPem);
  } catch (err) {
    return [{ subject: 'anchors', severity: 'error', message: `the anchor bundle ${(err as Error).message}` }];
  }
  for (const anchor of anchors) {
    const facts = await certificateFacts(anchor);
    problems.push(...validityProblems('anchors', `anchor ${facts.subject}`, facts, now));
    if (!facts.isCa) problems.push({ subject: 'anchors', severity: 'error', message: `anchor ${facts.subject} is not a CA` });
    if (facts.keyAlgorithm !== 'ECDSA P-256')
      problems.push({ subject: 'anchors', severity: 'error', message: `anchor ${facts.subject} uses ${facts.keyAlgorithm}; Linkerd needs ECDSA P-256` });
  }
  let cert: x509.X509Certificate;
  try {
    [cert] = parseCertificates(issuer.certificatePem);
  } catch (err) {
    return [...problems, { subject: 'issuer', severity: 'error', message: `the issuer certificate ${(err as Error).message}` }];
  }
  const facts = await certificateFacts(cert);
  problems.push(...validityProblems('issuer', 'the issuer', facts, now));
  if (!facts.isCa) problems.push({ subject: 'issuer', severity: 'error', message: 'the issuer is not a CA (basicConstraints CA:TRUE)' });
  if (!facts.keyUsage.includes('certSign')) problems.push({ subject: 'issuer', severity: 'error', message: 'the issuer lacks key usage certSign' });
  if (facts.keyAlgorithm !== 'ECDSA P-256')
    problems.push({ subject: 'issuer', severity: 'error', message: `the issuer uses ${facts.keyAlgorithm}; Linkerd needs ECDSA P-256` });
  if (!(await signedByOneOf(cert, anchors)))
    problems.push({ subject: 'issuer', severity: 'error', message: `the issuer (issued by ${facts.issuer}) is not signed by any of the trust anchors` });
  if (issuer.keyPem !== undefined) {
    let matches = false;
    try {
      matches = keyMatches(cert, issuer.keyPem);
    } catch {
      problems.push({ subject: 'issuer', severity: 'error', message: 'the issuer key is not a readable PEM private key' });
    }
    if (!matches && !problems.some((p) => p.message.startsWith('the issuer key')))
      problems.push({ subject: 'issuer', severity: 'error', message: 'the issuer key does not belong to the issuer certificate' });
    if (!/-----BEGIN EC PRIVATE KEY-----/.test(issuer.keyPem) && !problems.some((p) => p.message.startsWith('the issuer key'))) {
      problems.push({ subject: 'issuer', severity: 'error', message: 'the issuer key must be PEM "EC PRIVATE KEY" (SEC1), the only form Linkerd reads' });
    }
  }
  return problems;
}

function validityProblems(subject: TrustProblem['subject'], what: string, facts: CertificateFacts, now: Date): TrustProblem[] {
  if (new Date(facts.notBefore) > now) return [{ subject, severity: 'error', message: `${what} is not valid before ${facts.notBefore}` }];
  const days = daysLeft(facts.notAfter, now);
  if (days <= 0) return [{ subject, severity: 'error', message: `${what} expired at ${facts.notAfter}` }];
  if (days < EXPIRY_WARNING_DAYS)
    return [{ subject, severity: 'warning', message: `${what} expires in ${Math.floor(days)} days (${facts.notAfter}), within ${EXPIRY_WARNING_DAYS}` }];
  return [];
}

/** Converts any PEM EC private key to SEC1 (what Linkerd reads). */
export function toSec1(keyPem: string): string {
  return createPrivateKey(keyPem).export({ type: 'sec1', format: 'pem' }).toString();
}
