/**
 * kubeadm's copycerts: the control-plane CAs and service-account keys, each encrypted with
 * AES-256-GCM under the certificate key (Go's cipher.AEAD Seal: 12-byte nonce first, tag last),
 * in Secret kube-system/kubeadm-certs owned by a short-lived bootstrap token whose expiry removes
 * it. The lab deletes it once that owner token has expired (the garbage collector's job).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { allowKubeadmCertsRead, createTokenSecret, decodeTokenSecret, generateToken, rfc3339, splitToken } from './bootstrap';
import { ApiError, type KubeClient, type KubeObject } from './client';
import { writeFileWithMode } from './clusterPki';
import { KubeadmError } from './errors';

/** The files kubeadm transfers (stacked etcd), relative to certificatesDir. */
export const TRANSFERRED = ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.pub', 'sa.key', 'etcd/ca.crt', 'etcd/ca.key'];

const SECRET_PATH = '/api/v1/namespaces/kube-system/secrets/kubeadm-certs';
/** Lab annotation on kubeadm-certs: when its owner token expires (the lab's uploadedCertsTtlSeconds after upload). */
export const EXPIRES_ANNOTATION = 'lab.kubeha.io/expires-at';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Decodes a certificate key (64 hex characters = 32 bytes). */
export function decodeCertificateKey(key: string): Buffer {
  if (!/^[0-9a-fA-F]*$/.test(key) || key.length % 2 !== 0)
    throw new KubeadmError(
      `error decoding certificate key: encoding/hex: invalid byte: U+00${key
        .charCodeAt(key.search(/[^0-9a-fA-F]/) >= 0 ? key.search(/[^0-9a-fA-F]/) : 0)
        .toString(16)
        .toUpperCase()}`,
    );
  const bytes = Buffer.from(key, 'hex');
  if (bytes.length !== 32) throw new KubeadmError(`crypto/aes: invalid key size ${bytes.length}`);
  return bytes;
}

/** AES-GCM seal: nonce || ciphertext || tag. */
export function encryptBytes(data: Buffer, key: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
}

/** AES-GCM open; a wrong key fails as Go's does: "cipher: message authentication failed". */
export function decryptBytes(sealed: Buffer, key: Buffer): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new KubeadmError('size of data is less than the nonce');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new KubeadmError('cipher: message authentication failed');
  }
}

/** The Secret's data key of a file (slashes become dashes: etcd/ca.crt → etcd-ca.crt). */
export function secretKeyOf(file: string): string {
  return file.replaceAll('/', '-');
}

/** Uploads the certificates under `key`; the owner token lives `ttlMs` (kubeadm: 2 h). */
export async function uploadCerts(client: KubeClient, certificatesDir: string, key: string, ttlMs: number, log: (line: string) => void): Promise<void> {
  log('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace');
  const decoded = decodeCertificateKey(key);
  const token = generateToken();
  await createTokenSecret(client, { token, description: 'Proxy for managing TTL for the kubeadm-certs secret', ttlMs, usages: [], groups: [] });
  const owner = await client.get(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${splitToken(token)!.id}`);
  const data: Record<string, string> = {};
  for (const file of TRANSFERRED) {
    const full = path.join(certificatesDir, file);
    data[secretKeyOf(file)] = existsSync(full) ? encryptBytes(readFileSync(full), decoded).toString('base64') : '';
  }
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'kubeadm-certs',
      namespace: 'kube-system',
      // Lab: the owner token's expiry, readable by a joining node (which may not read token Secrets).
      annotations: { [EXPIRES_ANNOTATION]: rfc3339(new Date(Date.now() + ttlMs)) },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: owner.metadata?.name, uid: owner.metadata?.uid, controller: true, blockOwnerDeletion: true }],
    },
    type: 'Opaque',
    data,
  };
  await client.createOrUpdate('/api/v1/namespaces/kube-system/secrets', secret);
  await allowKubeadmCertsRead(client);
}

const NOT_FOUND_MESSAGE =
  'Secret "kubeadm-certs" was not found in the "kube-system" Namespace. This Secret might have expired. Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane to generate a new one';

/**
 * Whether the uploaded certificates have outlived their owner token: the lab's stand-in for the
 * token cleaner and garbage collector, applied when a join reads them.
 */
export async function uploadedCertsExpired(client: KubeClient, secret: KubeObject, now = new Date()): Promise<boolean> {
  const recorded = secret.metadata?.annotations?.[EXPIRES_ANNOTATION];
  if (recorded && Date.parse(recorded) <= now.getTime()) return true;
  const owner = secret.metadata?.ownerReferences?.find((o) => o.kind === 'Secret' && typeof o.name === 'string');
  if (!owner) return false;
  const token = await client.find(`/api/v1/namespaces/kube-system/secrets/${owner.name as string}`).catch((err: unknown) => {
    // A joining node may not read token Secrets: then only the expiry recorded on the upload counts.
    if (err instanceof ApiError && err.status === 403) return 'forbidden' as const;
    throw err;
  });
  if (token === 'forbidden') return false;
  if (!token) return true;
  const info = decodeTokenSecret(token);
  return info?.expiration !== undefined && info.expiration.getTime() <= now.getTime();
}

/** Downloads and decrypts the certificates, then writes them under certificatesDir. */
export async function downloadCerts(options: { client: KubeClient; certificatesDir: string; key: string; log: (line: string) => void }): Promise<void> {
  const { client, certificatesDir, key, log } = options;
  log('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace');
  const decoded = decodeCertificateKey(key);
  const secret = await client.find(SECRET_PATH);
  if (!secret || (await uploadedCertsExpired(client, secret))) {
    throw new KubeadmError(`error downloading certs: error downloading the secret: ${NOT_FOUND_MESSAGE}`);
  }
  const data = (secret.data ?? {}) as Record<string, string>;
  const plain: Record<string, Buffer> = {};
  try {
    for (const [name, value] of Object.entries(data)) plain[name] = value ? decryptBytes(Buffer.from(value, 'base64'), decoded) : Buffer.alloc(0);
  } catch (err) {
    throw new KubeadmError(`error downloading certs: error decoding secret data with provided key: ${(err as Error).message}`);
  }
  for (const file of TRANSFERRED) {
    const content = plain[secretKeyOf(file)];
    if (content === undefined)
      throw new KubeadmError(
        `error downloading certs: the Secret does not include the required certificate or key - name: ${file}, path: ${path.join(certificatesDir, file)}`,
      );
    if (content.length === 0) continue;
    writeFileWithMode(path.join(certificatesDir, file), content.toString('utf8'), file.endsWith('.key') ? 0o600 : 0o644);
  }
  log(`[download-certs] Saving the certificates to the folder: "${certificatesDir}"`);
}
