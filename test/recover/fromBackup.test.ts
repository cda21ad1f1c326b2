/**
 * RecoverControlPlane when no member survived (every voter reachable, every etcd's data gone), with stub
 * activities over a FakeWorld: the newest backup is restored once on the host the input names, across
 * a worker that dies mid-restore; the others rejoin. Without a backup store the run fails with the way
 * out in its hint, and an empty store fails naming the store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BackupRecord } from '../../activities/backup/types';
import type { RecoverControlPlaneInput } from '../../common/inputs/recoverControlPlane';
import type { Progress } from '../../common/progress';
import type { RecoverResult } from '../../workflows/recover';
import { startTestTemporal } from '../support/temporal';
import { eventually, stubWorker } from '../support/workflowHarness';
import { ADDRESS, bootstrappedZoneLost, CONTROL_PLANES, recoverInput } from './fakeRecovery';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const STORE = { bucket: 'kubeha-backups', region: 'us-east-1' };

function backup(backupId: string, revision: number): BackupRecord {
  return {
    backupId,
    clusterName: 'west',
    snapshotKey: `kubeha/etcd/west/${backupId}/snapshot.db`,
    caBundleKey: `kubeha/etcd/west/${backupId}/ca-bundle.sealed`,
    bytes: 1056,
    sha256: 'a'.repeat(64),
    host: 'cp-2',
    createdAt: '2026-12-06T03:00:00.000Z',
    hash: 1,
    revision,
    totalKeys: 10,
    totalSize: 1024,
  };
}

/** The bootstrapped world with every voter back on the network and every etcd member's data gone. */
async function allDataLost() {
  const lost = await bootstrappedZoneLost(env);
  lost.recovery.down.clear();
  lost.world.etcd.clear();
  return lost;
}

async function failure(input: RecoverControlPlaneInput, stored: BackupRecord[]): Promise<string> {
  const { world, recovery } = await allDataLost();
  recovery.stored.push(...stored);
  const { worker, taskQueue } = await stubWorker(env, { ...world.activities(), ...recovery.activities() });
  const run = worker.runUntil(env.client.workflow.execute('RecoverControlPlane', { args: [input], taskQueue, workflowId: `recover-${randomUUID()}` }));
  const err = await run.then(
    () => assert.fail('the run should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  assert.deepEqual(recovery.started, [], 'nothing restored');
  let text = '';
  for (let cause: unknown = err; cause; cause = (cause as { cause?: unknown }).cause) {
    text += ` ${(cause as Error).message} ${JSON.stringify((cause as { details?: unknown }).details ?? '')}`;
  }
  return text;
}

describe('RecoverControlPlane from a backup', { timeout: 180_000 }, () => {
  test('the newest backup is restored once on the named host across a worker that dies mid-restore; the others rejoin', async () => {
    const { world, recovery } = await allDataLost();
    recovery.stored.push(backup('20261206T030000Z-0000beef', 480), backup('20261206T020000Z-0000cafe', 400));
    let release!: () => void;
    recovery.gate = new Promise<void>((r) => (release = r));
    const input = recoverInput({ snapshot: { host: 'cp-1', store: STORE } });
    const { worker, taskQueue } = await stubWorker(env, { ...world.activities(), ...recovery.activities() });
    const handle = await env.client.workflow.start('RecoverControlPlane', { args: [input], taskQueue, workflowId: `recover-${randomUUID()}` });
    const first = worker.run();
    await eventually(async () => recovery.started.length === 1, 30_000, 'the restore to start');
    worker.shutdown();
    release();
    recovery.gate = undefined;
    await first;
    const { worker: second } = await stubWorker(env, { ...world.activities(), ...recovery.activities() }, taskQueue);
    const running = second.run();
    const result = (await handle.result()) as RecoverResult;
    const progress = await handle.query<Progress>('progress');
    second.shutdown();
    await running;

    assert.equal(result.outcome, 'recovered');
    assert.equal(result.survivor, 'cp-1');
    assert.equal(result.fromBackup?.backupId, '20261206T030000Z-0000beef', 'the newest complete backup');
    assert.equal(world.count('restore-snapshot:cp-1:20261206T030000Z-0000beef'), 1, 'restored exactly once');
    assert.equal(world.count('restore:cp-1'), 0, 'no survivor restore');
    assert.deepEqual(result.rejoined, ['cp-2', 'cp-3', 'spare-1']);
    for (const name of ['cp-2', 'cp-3', 'spare-1']) assert.equal(world.count(`reset:${name}`), 1, `${name} reset once before its join`);
    assert.deepEqual([...world.etcd.keys()].sort(), [...CONTROL_PLANES, 'spare-1']);
    assert.deepEqual([...world.targets.keys()].sort(), CONTROL_PLANES.map((n) => ADDRESS[n]).sort(), 'the control planes serve, the spare stays out');
    assert.match(progress.facts['data-loss window'] ?? '', /backup 20261206T030000Z-0000beef taken .* at revision 480; writes after it are gone/);
    assert.deepEqual(
      progress.steps.map((s) => [s.step, s.state]),
      [
        ['precheck', 'done'],
        ['approve', 'skipped'],
        ['restore', 'done'],
        ['verify-serving', 'done'],
        ['rejoin', 'done'],
        ['return-spare', 'skipped'],
        ['verify', 'done'],
      ],
    );
  });

  test('a named backup is the one restored', async () => {
    const { world, recovery } = await allDataLost();
    recovery.stored.push(backup('20261206T030000Z-0000beef', 480), backup('20261206T020000Z-0000cafe', 400));
    const input = recoverInput({ snapshot: { host: 'cp-2', store: STORE, backupId: '20261206T020000Z-0000cafe' }, skipSteps: ['rejoin', 'verify'] });
    const { worker, taskQueue } = await stubWorker(env, { ...world.activities(), ...recovery.activities() });
    const result = (await worker.runUntil(
      env.client.workflow.execute('RecoverControlPlane', { args: [input], taskQueue, workflowId: `recover-${randomUUID()}` }),
    )) as RecoverResult;
    assert.equal(result.fromBackup?.backupId, '20261206T020000Z-0000cafe');
    assert.equal(world.count('restore-snapshot:cp-2:20261206T020000Z-0000cafe'), 1);
  });

  test('an API server still settling after the restore (/readyz 500 twice) is asked again, and the step passes', async () => {
    const { world, recovery } = await allDataLost();
    recovery.stored.push(backup('20261206T030000Z-0000beef', 480));
    let unready = 2;
    const stubs = { ...world.activities(), ...recovery.activities() };
    const apiReady: typeof stubs.apiReady = async (i) =>
      unready-- > 0 ? { ok: false, status: 500, body: '[-]etcd failed: reason withheld' } : stubs.apiReady(i);
    const input = recoverInput({ snapshot: { host: 'cp-1', store: STORE }, skipSteps: ['rejoin', 'verify'] });
    const { worker, taskQueue } = await stubWorker(env, { ...stubs, apiReady });
    const handle = await env.client.workflow.start('RecoverControlPlane', { args: [input], taskQueue, workflowId: `recover-${randomUUID()}` });
    const result = (await worker.runUntil(handle.result())) as RecoverResult;
    assert.equal(result.outcome, 'recovered');
    assert.equal(unready, -1, '/readyz asked three times: two 500s, then 200');
    assert.equal(world.calls.filter((c) => c.name === 'writeReadProbe').length, 1, 'the write probe only once it is ready');
  });

  test('without a backup store the run fails and its hint names the way out; nothing is restored', async () => {
    assert.match(await failure(recoverInput(), []), /no etcd member answers on any of cp-1, cp-2, cp-3, spare-1.*start a recovery with .{0,3}snapshot/s);
  });

  test('a store without a complete backup fails naming the store; nothing is restored', async () => {
    assert.match(
      await failure(recoverInput({ snapshot: { host: 'cp-1', store: STORE } }), []),
      /no complete backup of cluster west in s3:\/\/kubeha-backups\/kubeha\/etcd\//,
    );
  });
});
