/**
 * BackupEtcd's decisions on a real Temporal dev server with stub activities: which host snapshots,
 * what a retried snapshot does, what is pruned, and that a held cluster lock skips the run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { BackupRecord } from '../../activities/backup/types';
import { BACKUP_ID, backupIdOf } from '../../common/inputs/backupEtcd';
import type { Progress } from '../../common/progress';
import type { BackupResult } from '../../workflows/backup';
import { clusterLockId } from '../../workflows/lock/protocol';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { backupBundle, input, StubStore } from './harness';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  env = await startTestTemporal();
  bundle = await backupBundle();
});
after(async () => {
  await env?.teardown();
});

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
