/**
 * Test support for BackupEtcd: a private workflow bundle, a valid input, and stub activities over an
 * in-memory bucket.
 */
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { BackupActivities, BackupRecord } from '../../activities/backup/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { BackupEtcdInput } from '../../common/inputs/backupEtcd';
import { host } from '../support/inputs';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The bundle of test/backup/workflows.ts (built once per process). */
export function backupBundle(): Promise<WorkflowBundleWithSourceMap> {
  const noop = () => undefined;
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop },
  });
  return bundle;
}

/** A valid BackupEtcd input: two control planes and a worker. */
export function input(overrides: Partial<BackupEtcdInput> = {}): BackupEtcdInput {
  return {
    clusterName: 'west',
    hosts: [host('cp-1', '10.0.1.11', 'control-plane'), host('cp-2', '10.0.1.12', 'control-plane'), host('w-1', '10.0.1.21', 'worker')],
    store: { bucket: 'kubeha-backups', region: 'us-east-1' },
    keep: 2,
    onFailure: 'fail',
    ...overrides,
  } as BackupEtcdInput;
}

/** Stub activities over an in-memory bucket. */
export class StubStore {
  readonly stored = new Map<string, BackupRecord>();
  readonly calls: string[] = [];
  uploads = 0;
  /** The first snapshot attempt stores the backup, then fails as a lost worker would. */
  failFirstAfterStoring = false;
  unhealthy = new Map<string, string>();

  activities(): BackupActivities {
    return {
      selectEtcdVoter: async ({ hosts }) => {
        this.calls.push('selectEtcdVoter');
        const skipped = hosts
          .filter((h) => h.role !== 'worker' && this.unhealthy.has(h.name))
          .map((h) => ({ host: h.name, reason: this.unhealthy.get(h.name) ?? '' }));
        return { host: hosts.find((h) => h.role !== 'worker' && !this.unhealthy.has(h.name))?.name, skipped };
      },
      backupEtcdSnapshot: async ({ clusterName, backupId, host: h }) => {
        this.calls.push(`backupEtcdSnapshot:${h.name}`);
        const done = this.stored.get(backupId);
        if (done) return { record: done, uploaded: false };
        this.uploads++;
        const record: BackupRecord = {
          backupId,
          clusterName,
          snapshotKey: `kubeha/etcd/${clusterName}/${backupId}/snapshot.db`,
          caBundleKey: `kubeha/etcd/${clusterName}/${backupId}/ca-bundle.sealed`,
          bytes: 4096,
          sha256: 'a'.repeat(64),
          host: h.name,
          createdAt: new Date().toISOString(),
          hash: 1234,
          revision: 42,
          totalKeys: 7,
          totalSize: 4096,
        };
        this.stored.set(backupId, record);
        if (this.failFirstAfterStoring && this.uploads === 1)
          throw kubehaFailure({ type: ErrorType.Unreachable, message: 'connection lost after the upload', retryable: true, hint: 'test' });
        return { record, uploaded: true };
      },
      pruneBackups: async ({ keep, protect }) => {
        this.calls.push('pruneBackups');
        const ids = [...this.stored.keys()].sort().reverse();
        const kept = ids.filter((id, i) => i < keep || id === protect);
        const deleted = ids.filter((id) => !kept.includes(id));
        for (const id of deleted) this.stored.delete(id);
        return { kept, deleted };
      },
    };
  }
}
