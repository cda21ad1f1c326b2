/**
 * kubeha's backups in S3: one folder per backup, `<prefix><cluster>/<backupId>/`, holding `snapshot.db`
 * (whose user metadata describes the backup, and whose presence marks it complete: it is written last)
 * and `ca-bundle.sealed`. Only keys of exactly that shape are kubeha's: listing and pruning leave
 * anything else under the prefix alone.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { BACKUP_ID, type BackupStore, clusterBackupPrefix } from '../../common/inputs/backupEtcd';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { BackupRecord } from './types';

/** Object names inside one backup's folder. */
export const OBJECTS = { snapshot: 'snapshot.db', caBundle: 'ca-bundle.sealed' } as const;

/** An S3 client for the store; with an endpoint (moto, MinIO) path-style addressing. */
export function s3ClientFor(store: BackupStore): S3Client {
  return new S3Client({ region: store.region, ...(store.endpoint ? { endpoint: store.endpoint, forcePathStyle: true } : {}) });
}

/** The keys of one backup. */
export function backupKeys(store: BackupStore, clusterName: string, backupId: string): { snapshot: string; caBundle: string } {
  const folder = `${clusterBackupPrefix(store, clusterName)}${backupId}/`;
  return { snapshot: `${folder}${OBJECTS.snapshot}`, caBundle: `${folder}${OBJECTS.caBundle}` };
}

/** Server-side encryption parameters of every PutObject / CreateMultipartUpload. */
export function encryptionParams(store: BackupStore): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
  const sse = store.serverSideEncryption;
  return sse.type === 'aws:kms' ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sse.kmsKeyId } : { ServerSideEncryption: 'AES256' };
}

/** The snapshot object's user metadata (S3 lowercases names; values are strings). */
export function recordMetadata(record: BackupRecord): Record<string, string> {
  return {
    'kubeha-backup': 'etcd-v1',
    'backup-id': record.backupId,
    cluster: record.clusterName,
    host: record.host,
    'created-at': record.createdAt,
    sha256: record.sha256,
    'etcd-hash': String(record.hash),
    'etcd-revision': String(record.revision),
    'etcd-total-keys': String(record.totalKeys),
    'etcd-total-size': String(record.totalSize),
  };
}

/**
 * Whether a snapshot file's length fits etcd's status of it: `snapshot save` appends the SHA-256 of
 * the database (32 bytes) after it, and `totalSize` counts the database only. A file of any other
 * length is torn.
 */
export function sizeMatchesStatus(bytes: number, totalSize: number): boolean {
  return bytes === totalSize + 32 || bytes === totalSize;
}

/** Reads a record back from a snapshot object's metadata; undefined when it is not a complete kubeha backup. */
export function recordOf(
  store: BackupStore,
  clusterName: string,
  backupId: string,
  meta: Record<string, string> | undefined,
  bytes: number,
): BackupRecord | undefined {
  if (!meta || meta['kubeha-backup'] !== 'etcd-v1' || meta['backup-id'] !== backupId || meta.cluster !== clusterName) return undefined;
  const keys = backupKeys(store, clusterName, backupId);
  const num = (name: string) => Number(meta[name]);
  return {
    backupId,
    clusterName,
    snapshotKey: keys.snapshot,
    caBundleKey: keys.caBundle,
    bytes,
    sha256: meta.sha256 ?? '',
    host: meta.host ?? '',
    createdAt: meta['created-at'] ?? '',
    hash: num('etcd-hash'),
    revision: num('etcd-revision'),
    totalKeys: num('etcd-total-keys'),
    totalSize: num('etcd-total-size'),
  };
}

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

/** An S3 error as a kubeha failure: 4xx other than throttling is the request's fault, the rest transient. */
export function s3Failure(err: unknown, what: string): Error {
  const status = statusOf(err);
  const transient = status === undefined || status >= 500 || status === 429 || status === 408;
  return kubehaFailure({
    type: transient ? ErrorType.CloudTransient : ErrorType.CloudRejected,
    message: `S3 ${what} failed${status ? ` (${status})` : ''}: ${(err as Error).message}`,
    retryable: transient,
    hint: transient
      ? 'S3 did not answer; the activity retries'
      : "check the bucket name, region, the worker's AWS credentials and its permissions on the bucket (and the KMS key)",
    details: status ? { httpStatus: status } : undefined,
  });
}

/** The stored backup of this id, when it is complete (its snapshot object exists with kubeha's metadata). */
export async function findBackup(s3: S3Client, store: BackupStore, clusterName: string, backupId: string): Promise<BackupRecord | undefined> {
  const keys = backupKeys(store, clusterName, backupId);
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: keys.snapshot }));
    const record = recordOf(store, clusterName, backupId, head.Metadata, head.ContentLength ?? -1);
    return record && sizeMatchesStatus(record.bytes, record.totalSize) ? record : undefined;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw s3Failure(err, `HeadObject ${keys.snapshot}`);
  }
}

/** Every backup id kubeha wrote for the cluster (complete or not), newest first. */
export async function listBackupIds(s3: S3Client, store: BackupStore, clusterName: string): Promise<string[]> {
  const prefix = clusterBackupPrefix(store, clusterName);
  const ids = new Set<string>();
  let token: string | undefined;
  do {
    const page = await s3
      .send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: prefix, ContinuationToken: token }))
      .catch((err: unknown) => Promise.reject(s3Failure(err, `ListObjectsV2 ${prefix}`)));
    for (const object of page.Contents ?? []) {
      const [id, name, ...rest] = (object.Key ?? '').slice(prefix.length).split('/');
      if (rest.length === 0 && BACKUP_ID.test(id) && Object.values(OBJECTS).includes(name as never)) ids.add(id);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return [...ids].sort().reverse();
}

/** The complete backups of a cluster, newest first. */
export async function listBackups(s3: S3Client, store: BackupStore, clusterName: string): Promise<BackupRecord[]> {
  const records: BackupRecord[] = [];
  for (const id of await listBackupIds(s3, store, clusterName)) {
    const record = await findBackup(s3, store, clusterName, id);
    if (record) records.push(record);
  }
  return records;
}

/** Writes a small object (the sealed CA bundle) with the store's encryption. */
export async function putSmallObject(s3: S3Client, store: BackupStore, key: string, body: Buffer): Promise<void> {
  await s3
    .send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: body, ContentLength: body.length, ...encryptionParams(store) }))
    .catch((err: unknown) => Promise.reject(s3Failure(err, `PutObject ${key}`)));
}

/** Reads a whole object (verification of one backup; the CLI's side). */
export async function getObject(s3: S3Client, store: BackupStore, key: string): Promise<Buffer> {
  const out = await s3
    .send(new GetObjectCommand({ Bucket: store.bucket, Key: key }))
    .catch((err: unknown) => Promise.reject(s3Failure(err, `GetObject ${key}`)));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** Deletes every object of the given backups (kubeha's two names only). */
export async function deleteBackups(s3: S3Client, store: BackupStore, clusterName: string, backupIds: readonly string[]): Promise<void> {
  for (let i = 0; i < backupIds.length; i += 400) {
    const objects = backupIds.slice(i, i + 400).flatMap((id) => Object.values(backupKeys(store, clusterName, id)).map((Key) => ({ Key })));
    const out = await s3
      .send(new DeleteObjectsCommand({ Bucket: store.bucket, Delete: { Objects: objects, Quiet: true } }))
      .catch((err: unknown) => Promise.reject(s3Failure(err, 'DeleteObjects')));
    if (out.Errors?.length) throw s3Failure(new Error(out.Errors.map((e) => `${e.Key}: ${e.Code}`).join('; ')), 'DeleteObjects');
  }
}
