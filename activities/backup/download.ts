/**
 * Moving a stored snapshot from S3 onto a host without holding it whole on the worker: the object is
 * read in 512 KiB ranges and each is written at its own offset of the host's file (`base64 -d | dd
 * seek=N conv=notrunc`, the bytes on standard input, never on a command line). A retried slice
 * rewrites the same bytes. The file is then checked on the host with sha256sum against the backup's record.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { BackupStore } from '../../common/inputs/backupEtcd';
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { heartbeat } from '../activityContext';
import { hostFailure, type HostRunner, shellWord } from '../hosts/context';
import { s3Failure } from './store';
import { SLICE_BYTES } from './stream';
import type { BackupRecord } from './types';

/** Where a stored snapshot goes: a file on a host, in a 0700 directory. */
export interface DownloadRequest {
  host: HostSpec;
  /** The 0700 directory the file is written in (made when missing). */
  dir: string;
  path: string;
  record: BackupRecord;
}

async function readRange(s3: S3Client, store: BackupStore, key: string, start: number, end: number): Promise<Buffer> {
  const out = await s3
    .send(new GetObjectCommand({ Bucket: store.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }))
    .catch((err: unknown) => Promise.reject(s3Failure(err, `GetObject ${key} (bytes ${start}-${end - 1})`)));
  const bytes = Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  if (bytes.length !== end - start) {
    throw s3Failure(new Error(`got ${bytes.length} bytes of ${end - start}`), `GetObject ${key} (bytes ${start}-${end - 1})`);
  }
  return bytes;
}

/** Writes the backup's snapshot to `req.path` on the host and checks it there; returns the host's sha256. */
export async function downloadSnapshot(run: HostRunner, s3: S3Client, store: BackupStore, req: DownloadRequest): Promise<string> {
  const { host, record } = req;
  const file = shellWord(req.path);
  // umask 077: the file holds every Secret of the cluster, 0600 from its first byte.
  await run.check(
    host,
    { command: `umask 077 && mkdir -p ${shellWord(req.dir)} && chmod 0700 ${shellWord(req.dir)} && : > ${file}`, label: 'create snapshot file' },
    'kubeha needs root (or sudo) on the host and room under the etcd data directory',
  );
  const hash = createHash('sha256');
  for (let at = 0, index = 0; at < record.bytes; at += SLICE_BYTES, index++) {
    const slice = await readRange(s3, store, record.snapshotKey, at, Math.min(record.bytes, at + SLICE_BYTES));
    hash.update(slice);
    await run.check(
      host,
      {
        command: `base64 -d | dd of=${file} bs=${SLICE_BYTES} seek=${index} conv=notrunc status=none`,
        stdin: slice.toString('base64'),
        label: 'write snapshot slice',
      },
      'the snapshot slice could not be written on the host (disk full?)',
      ErrorType.CommandTransient,
    );
    heartbeat({ downloading: record.snapshotKey, bytes: at + slice.length, of: record.bytes });
  }
  const worker = hash.digest('hex');
  const sum = await run.check(host, { command: `sha256sum ${file}`, label: 'sha256sum snapshot' }, 'coreutils must be installed on the host');
  const onHost = sum.stdout.trim().split(/\s+/)[0];
  if (worker !== record.sha256 || onHost !== record.sha256) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `the snapshot ${record.snapshotKey} hashes to ${worker} as read from S3 and ${onHost} on the host; its record says ${record.sha256}`,
      retryable: worker === record.sha256,
      hint:
        worker === record.sha256
          ? 'the file on the host was changed or cut short while written; the activity writes it again'
          : 'the stored backup is damaged: check it with `kubeha backup verify` and name an older backup (snapshot.backupId)',
    });
  }
  return onHost;
}
