/**
 * OpenSSH host key fingerprints, computed the way `ssh-keygen -lf` prints them.
 */
import { createHash } from 'node:crypto';

/** `SHA256:` + unpadded base64 of the SHA-256 of the public key blob (OpenSSH's default format). */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name a public key blob starts with (e.g. `ssh-ed25519`), for messages. */
export function sshKeyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  if (length > 64 || keyBlob.length < 4 + length) return 'unknown';
  return keyBlob.subarray(4, 4 + length).toString('ascii');
}
