/**
 * `backupEtcdSnapshot`: on a healthy voter, `etcdctl snapshot save` into a 0600 file in a 0700
 * directory, checked with `etcdutl snapshot status` (etcdctl's own on etcd 3.4, which has no etcdutl),
 * hashed with sha256sum, streamed to S3 after the sealed CA bundle, and removed from the host whatever
 * happens. A backup already complete in S3 (an earlier attempt of this activity) is not taken again.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import type { Keyring } from '../../lib/codec/keyring';
import { hostFailure, type HostRunner, shellWord } from '../hosts/context';
import { etcdctlCommand } from '../hosts/etcd';
import { readCaBundle, sealCaBundle } from './caBundle';
import { backupKeys, findBackup, putSmallObject, recordMetadata, sizeMatchesStatus } from './store';
import { streamToS3 } from './stream';
import type { BackupRecord, BackupSnapshotInput, BackupSnapshotResult, SnapshotStatus } from './types';

/** The status command: etcdutl where it exists (etcd 3.5+ deprecates `etcdctl snapshot status`). */
export function snapshotStatusCommand(file: string): string {
  const f = shellWord(file);
  return `if command -v etcdutl >/dev/null 2>&1; then etcdutl snapshot status ${f} -w json; else ETCDCTL_API=3 etcdctl snapshot status ${f} -w json; fi`;
}

/** Parses `snapshot status -w json`: `{"hash":…,"revision":…,"totalKey":…,"totalSize":…}`. */
export function parseSnapshotStatus(text: string): SnapshotStatus {
  const doc = JSON.parse(text.trim()) as Record<string, unknown>;
  const num = (name: string): number => {
    const v = doc[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`snapshot status has no numeric "${name}"`);
    return v;
  };
  return { hash: num('hash'), revision: num('revision'), totalKeys: num('totalKey'), totalSize: num('totalSize') };
}

async function saveSnapshot(run: HostRunner, host: HostSpec, dir: string, file: string): Promise<void> {
  // umask 077: etcdctl writes <file>.part and renames it, so the file is 0600 from its first byte.
  await run.check(
    host,
    {
      command: `umask 077 && mkdir -p ${shellWord(dir)} && chmod 0700 ${shellWord(dir)} && ${etcdctlCommand(`snapshot save ${shellWord(file)}`)} >/dev/null && chmod 0600 ${shellWord(file)}`,
      label: 'etcdctl snapshot save',
      timeoutMs: 15 * 60_000,
    },
    'etcd did not write a snapshot: it needs quorum and a healthy member on this host (`etcdctl endpoint health --cluster`)',
    ErrorType.CommandTransient,
  );
}

async function describeFile(run: HostRunner, host: HostSpec, file: string): Promise<SnapshotStatus & { bytes: number; sha256: string }> {
  const status = await run.check(
    host,
    { command: snapshotStatusCommand(file), label: 'etcdutl snapshot status' },
    'the snapshot file is not a valid etcd snapshot',
  );
  const sum = await run.check(
    host,
    { command: `stat -c %s ${shellWord(file)} && sha256sum ${shellWord(file)}`, label: 'sha256sum snapshot' },
    'stat and sha256sum must exist on the host',
  );
  const [size, line] = sum.stdout.trim().split('\n');
  const sha256 = (line ?? '').split(/\s+/)[0];
  let parsed: SnapshotStatus;
  try {
    parsed = parseSnapshotStatus(status.stdout);
  } catch (err) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `snapshot status: ${(err as Error).message}`,
      retryable: true,
      hint: 'the snapshot is retaken on retry',
      result: status,
    });
  }
  if (!/^[0-9a-f]{64}$/.test(sha256) || !/^\d+$/.test(size ?? ''))
    throw hostFailure({
      type: ErrorType.CommandFailed,
      host,
      message: 'stat/sha256sum printed no size and hash',
      retryable: false,
      hint: 'coreutils must be installed on the host',
      result: sum,
    });
  return { ...parsed, bytes: Number(size), sha256 };
}

/** Takes, checks and uploads one snapshot with the CA bundle. */
export async function backupEtcdSnapshot(run: HostRunner, s3: S3Client, keyring: Keyring, input: BackupSnapshotInput): Promise<BackupSnapshotResult> {
  const { host, store, clusterName, backupId } = input;
  const done = await findBackup(s3, store, clusterName, backupId);
  if (done) return { record: done, uploaded: false };

  const file = `${input.snapshotDir.replace(/\/+$/, '')}/${backupId}.db`;
  const keys = backupKeys(store, clusterName, backupId);
  try {
    await saveSnapshot(run, host, input.snapshotDir, file);
    const described = await describeFile(run, host, file);
    if (!sizeMatchesStatus(described.bytes, described.totalSize))
      throw hostFailure({
        type: ErrorType.VerificationFailed,
        host,
        message: `snapshot file has ${described.bytes} bytes, its status says the database has ${described.totalSize}`,
        retryable: true,
        hint: 'the snapshot is retaken on retry',
      });
    // The sealed CA bundle first: the snapshot object, written last, is what marks the backup complete.
    await putSmallObject(s3, store, keys.caBundle, sealCaBundle(keyring, await readCaBundle(run, host, clusterName)));
    const record: BackupRecord = {
      backupId,
      clusterName,
      snapshotKey: keys.snapshot,
      caBundleKey: keys.caBundle,
      bytes: described.bytes,
      sha256: described.sha256,
      host: host.name,
      createdAt: run.now().toISOString(),
      hash: described.hash,
      revision: described.revision,
      totalKeys: described.totalKeys,
      totalSize: described.totalSize,
    };
    await streamToS3(run, s3, store, { host, path: file, size: described.bytes, key: keys.snapshot, metadata: recordMetadata(record) });
    return { record, uploaded: true };
  } finally {
    await run.removeFile(host, file);
  }
}
