/**
 * Verifying one stored backup (`kubeha backup verify`): the snapshot downloaded and checked against the
 * size and SHA-256 its metadata records, and the CA bundle opened with the codec keys. The snapshot is
 * hashed as it streams in, never held whole.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BackupStore } from '../../common/inputs/backupEtcd';
import type { Keyring } from '../../lib/codec/keyring';
import { CA_FILES, openCaBundle } from './caBundle';
import { findBackup, getObject, s3Failure, sizeMatchesStatus } from './store';
import type { BackupRecord } from './types';

/** One check of a verification. */
export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What `verifyBackup` found. */
export interface VerifyReport {
  record?: BackupRecord;
  ok: boolean;
  checks: VerifyCheck[];
}

async function hashObject(s3: S3Client, store: BackupStore, key: string): Promise<{ bytes: number; sha256: string }> {
  const out = await s3
    .send(new GetObjectCommand({ Bucket: store.bucket, Key: key }))
    .catch((err: unknown) => Promise.reject(s3Failure(err, `GetObject ${key}`)));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of out.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Verifies one backup; every check is reported, none stops the others. */
export async function verifyBackup(s3: S3Client, store: BackupStore, keyring: Keyring, clusterName: string, backupId: string): Promise<VerifyReport> {
  const record = await findBackup(s3, store, clusterName, backupId);
  if (!record) return { ok: false, checks: [{ name: 'complete', ok: false, detail: `no complete backup ${backupId} of cluster ${clusterName}` }] };
  const checks: VerifyCheck[] = [{ name: 'complete', ok: true, detail: record.snapshotKey }];
  const got = await hashObject(s3, store, record.snapshotKey);
  checks.push({
    name: 'size',
    ok: got.bytes === record.bytes && sizeMatchesStatus(got.bytes, record.totalSize),
    detail: `${got.bytes} bytes (recorded ${record.bytes}, database ${record.totalSize})`,
  });
  checks.push({
    name: 'sha256',
    ok: got.sha256 === record.sha256,
    detail: got.sha256 === record.sha256 ? got.sha256 : `${got.sha256}, recorded ${record.sha256}`,
  });
  try {
    const bundle = openCaBundle(keyring, await getObject(s3, store, record.caBundleKey));
    const present = CA_FILES.filter((f) => bundle.files[f] !== undefined);
    const ok = bundle.clusterName === clusterName && present.includes('ca.key') && present.includes('etcd/ca.key');
    checks.push({
      name: 'ca-bundle',
      ok,
      detail: `opened: ${present.length} of ${CA_FILES.length} files${bundle.missing.length ? ` (missing ${bundle.missing.join(', ')})` : ''}`,
    });
  } catch (err) {
    checks.push({ name: 'ca-bundle', ok: false, detail: (err as Error).message });
  }
  return { record, ok: checks.every((c) => c.ok), checks };
}
