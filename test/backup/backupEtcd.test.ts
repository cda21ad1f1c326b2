/**
 * BackupEtcd's decisions on a real Temporal dev server with stub activities: which host snapshots,
 * what a retried snapshot does, what is pruned, and that a held cluster lock skips the run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { BackupActivities, BackupRecord } from '../../activities/backup/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { BACKUP_ID, type BackupEtcdInput, backupIdOf } from '../../common/inputs/backupEtcd';
import type { Progress } from '../../common/progress';
import type { BackupResult } from '../../workflows/backup';
import { clusterLockId } from '../../workflows/lock/protocol';
import { host } from '../support/inputs';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  env = await startTestTemporal();
  const noop = () => undefined;
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop },
  });
});
after(async () => {
  await env?.teardown();
});

function input(overrides: Partial<BackupEtcdInput> = {}): BackupEtcdInput {
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
class StubStore {
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

async function run(stub: StubStore, raw: unknown, workflowId = `backup-etcd-west-${randomUUID()}`): Promise<{ result: BackupResult; progress: Progress }> {
  const taskQueue = `backup-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: stub.activities(),
    shutdownGraceTime: '1 second',
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('BackupEtcd', { args: [raw], taskQueue, workflowId });
    const result = (await handle.result()) as BackupResult;
    return { result, progress: await handle.query<Progress>('progress') };
  });
}

describe('BackupEtcd', { timeout: 120_000 }, () => {
  test('snapshots on the first healthy voter, stores the backup and prunes beyond keep', async () => {
    const stub = new StubStore();
    stub.unhealthy.set('cp-1', 'its etcd member does not answer endpoint health');
    for (const id of ['20200101T000000Z-00000001', '20200102T000000Z-00000002']) {
      stub.stored.set(id, { backupId: id } as BackupRecord);
    }
    const { result, progress } = await run(stub, input());
    assert.equal(result.host, 'cp-2');
    assert.deepEqual(result.skippedHosts, [{ host: 'cp-1', reason: 'its etcd member does not answer endpoint health' }]);
    assert.match(result.backupId, BACKUP_ID);
    assert.equal(result.uploaded, true);
    assert.equal(result.record?.revision, 42);
    assert.deepEqual(result.deleted, ['20200101T000000Z-00000001'], 'keep 2: the new one and the newest older one stay');
    assert.deepEqual(
      progress.steps.map((s) => [s.step, s.state]),
      [
        ['select-voter', 'done'],
        ['snapshot', 'done'],
        ['prune', 'done'],
      ],
    );
  });

  test('a snapshot attempt retried after its upload stores nothing twice', async () => {
    const stub = new StubStore();
    stub.failFirstAfterStoring = true;
    const { result } = await run(stub, input());
    assert.equal(stub.uploads, 1);
    assert.equal(result.uploaded, false, 'the retry found the backup stored');
    assert.equal(stub.calls.filter((c) => c.startsWith('backupEtcdSnapshot')).length, 2);
  });

  test('the backup id is the same for the same workflow id and start time, and differs between runs', async () => {
    const at = new Date('2026-12-05T20:00:00.123Z');
    assert.equal(backupIdOf('backup-etcd-west-2026-12-05T20:00:00Z', at), backupIdOf('backup-etcd-west-2026-12-05T20:00:00Z', at));
    assert.notEqual(backupIdOf('backup-etcd-west-a', at), backupIdOf('backup-etcd-west-b', at));
    assert.match(backupIdOf('x', at), /^20261205T200000Z-[0-9a-f]{8}$/);
  });

  test('no healthy voter fails the step with every host named', async () => {
    const stub = new StubStore();
    stub.unhealthy.set('cp-1', 'learner');
    stub.unhealthy.set('cp-2', 'down');
    await assert.rejects(
      run(stub, input()),
      (err: Error) => /select-voter/.test(String(err.message)) || /select-voter/.test(String((err as { cause?: Error }).cause?.message)),
    );
    assert.equal(stub.uploads, 0);
  });

  test('while a join holds the cluster lock, the run takes no snapshot and says why', async () => {
    const stub = new StubStore();
    const taskQueue = `backup-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: stub.activities(),
      shutdownGraceTime: '1 second',
    });
    const cluster = `west-${randomUUID().slice(0, 8)}`;
    await worker.runUntil(async () => {
      const holder = await env.client.workflow.start('HoldClusterLock', { args: [cluster], taskQueue, workflowId: `hold-${randomUUID()}` });
      await eventually(
        async () => {
          const state = await env.client.workflow
            .getHandle(clusterLockId(cluster, taskQueue))
            .query<{ holder?: unknown }>('lockState')
            .catch(() => undefined);
          return state?.holder !== undefined;
        },
        20_000,
        'the join holds the lock',
      );
      const handle = await env.client.workflow.start('BackupEtcd', {
        args: [input({ clusterName: cluster, lockWaitSeconds: 5 })],
        taskQueue,
        workflowId: `backup-${randomUUID()}`,
      });
      const result = (await handle.result()) as BackupResult;
      assert.match(result.skipReason ?? '', /cluster lock stayed held/);
      assert.equal(result.record, undefined);
      assert.equal(stub.uploads, 0);
      const progress = await handle.query<Progress>('progress');
      assert.deepEqual(progress.steps.find((s) => s.step === 'prune')?.state, 'skipped');
      await holder.signal('release');
      await holder.result();
    });
  });

  test('a bad input names every bad field and runs nothing', async () => {
    const stub = new StubStore();
    const bad = { ...input(), keep: 0, store: { bucket: 'Bad_Bucket', region: 'nowhere' } };
    await assert.rejects(run(stub, bad), (err: Error) => {
      const text = `${err.message} ${(err as { cause?: Error }).cause?.message}`;
      return /keep/.test(text) && /store\.bucket/.test(text) && /store\.region/.test(text);
    });
    assert.deepEqual(stub.calls, []);
  });
});
