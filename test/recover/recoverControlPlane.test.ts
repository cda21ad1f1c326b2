/**
 * RecoverControlPlane's decisions on a real Temporal dev server with stub activities (FakeWorld and
 * FakeRecovery): it refuses while quorum holds, restores nothing without approval, restores the member
 * with the most of the log exactly once (also across a worker that dies mid-restore), fences the lost
 * control planes, rejoins them as they come back, returns the spare, and verifies the cluster.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RecoverControlPlaneInput } from '../../common/inputs/recoverControlPlane';
import type { Progress } from '../../common/progress';
import type { RecoverResult } from '../../workflows/recover';
import { pickSurvivor } from '../../workflows/recover/restore';
import type { FakeWorld } from '../support/fakeWorld';
import { startTestTemporal } from '../support/temporal';
import { eventually, stubWorker } from '../support/workflowHarness';
import { ADDRESS, bootstrappedZoneLost, CONTROL_PLANES, type FakeRecovery, recoverInput } from './fakeRecovery';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const zoneLost = () => bootstrappedZoneLost(env);

async function start(world: FakeWorld, recovery: FakeRecovery, input: RecoverControlPlaneInput) {
  const { worker, taskQueue } = await stubWorker(env, { ...world.activities(), ...recovery.activities() });
  const handle = await env.client.workflow.start('RecoverControlPlane', { args: [input], taskQueue, workflowId: `recover-${randomUUID()}` });
  return { worker, taskQueue, handle, running: worker.run() };
}

describe('RecoverControlPlane', { timeout: 180_000 }, () => {
  test('the survivor is the answering member with the highest raft index; input order breaks ties', () => {
    const order = ['cp-1', 'cp-2', 'spare-1'];
    const probe = (host: string, raftIndex?: number, answers = true) => ({ host, reachable: true, answers, raftIndex });
    assert.equal(pickSurvivor(order, [probe('cp-1', 90), probe('cp-2', 120), probe('spare-1', 110)])?.host, 'cp-2');
    assert.equal(pickSurvivor(order, [probe('spare-1', 120), probe('cp-2', 120)])?.host, 'cp-2');
    assert.equal(pickSurvivor(order, [probe('cp-1', 500, false), probe('spare-1', 1)])?.host, 'spare-1');
    assert.equal(pickSurvivor(order, [probe('cp-1', undefined, false)]), undefined);
  });

  test('while quorum holds it refuses with the reason and changes nothing', async () => {
    const { world, recovery } = await zoneLost();
    recovery.quorumLost = false;
    recovery.down.clear();
    const { worker, handle, running } = await start(world, recovery, recoverInput({ precheck: { windowSeconds: 0, intervalSeconds: 2 } }));
    const result = (await handle.result()) as RecoverResult;
    const progress = await handle.query<Progress>('progress');
    worker.shutdown();
    await running;
    assert.equal(result.outcome, 'refused');
    assert.match(result.reason ?? '', /etcd on cp-1 follows leader 1 with 4 voter\(s\): quorum holds/);
    assert.deepEqual(recovery.started, []);
    assert.deepEqual([...world.changeCalls.keys()], []);
    assert.deepEqual(
      progress.steps.filter((s) => s.state === 'skipped').map((s) => s.step),
      ['approve', 'restore', 'verify-serving', 'rejoin', 'return-spare', 'verify'],
    );
  });

  test('a survivor still naming the old leader right after the loss restarts the window instead of refusing', async () => {
    const { world, recovery } = await zoneLost();
    recovery.staleLeaderAnswers = 1;
    const input = recoverInput({
      onlySteps: ['precheck', 'approve'],
      precheck: { windowSeconds: 4, intervalSeconds: 2 },
      approval: { required: true, timeoutMinutes: 0.05 },
    });
    const { worker, handle, running } = await start(world, recovery, input);
    const result = (await handle.result()) as RecoverResult;
    const progress = await handle.query<Progress>('progress');
    worker.shutdown();
    await running;
    assert.equal(result.outcome, 'rejected', 'the precheck passed: quorum stayed lost for a whole window after the stale answer');
    assert.match(progress.facts.quorum ?? '', /1 of 4 voters answer, none has a leader, .*round 4, 4 of 4 s/);
    assert.deepEqual(recovery.started, []);
  });

  test('an API target that stays healthy through the window refuses (a majority may serve behind a partition)', async () => {
    const { world, recovery } = await zoneLost();
    world.targets.set(ADDRESS['cp-2'], 'healthy');
    const { worker, handle, running } = await start(world, recovery, recoverInput({ precheck: { windowSeconds: 4, intervalSeconds: 2 } }));
    const result = (await handle.result()) as RecoverResult;
    worker.shutdown();
    await running;
    assert.equal(result.outcome, 'refused');
    assert.match(result.reason ?? '', /API target 10\.0\.1\.12 is healthy/);
    assert.deepEqual(recovery.started, []);
  });

  test('nobody approving in time restores nothing; a reject signal says who', async () => {
    const { world, recovery } = await zoneLost();
    const timedOut = await start(world, recovery, recoverInput({ approval: { required: true, timeoutMinutes: 0.05 } }));
    const quiet = (await timedOut.handle.result()) as RecoverResult;
    timedOut.worker.shutdown();
    await timedOut.running;
    assert.equal(quiet.outcome, 'rejected');
    assert.match(quiet.reason ?? '', /nobody approved within 0.05 min/);

    const asked = await start(world, recovery, recoverInput({ approval: { required: true, timeoutMinutes: 5 } }));
    const waiting = await eventually(async () => {
      const p = await asked.handle.query<Progress>('progress');
      return p.phase === 'waiting' ? p : undefined;
    });
    assert.match(waiting.waitingFor ?? '', /signal "approve" to restore etcd from spare-1/);
    await asked.handle.signal('reject', { by: 'alice', comment: 'east is fine' });
    const rejected = (await asked.handle.result()) as RecoverResult;
    asked.worker.shutdown();
    await asked.running;
    assert.deepEqual([rejected.outcome, rejected.reason], ['rejected', 'rejected by alice: east is fine']);
    assert.deepEqual(recovery.started, []);
  });

  test('the spare is restored once across a worker that dies mid-restore; the lost hosts rejoin as they return; the spare goes back out', async () => {
    const { world, recovery } = await zoneLost();
    let release!: () => void;
    recovery.gate = new Promise<void>((r) => (release = r));
    const first = await start(world, recovery, recoverInput());
    await eventually(async () => recovery.started.length === 1, 30_000, 'the restore to start');
    first.worker.shutdown();
    release();
    recovery.gate = undefined;
    await first.running;
    // A new worker takes the run over: the restore either finished on the dying worker or runs again and finds it done.
    const { worker: second } = await stubWorker(env, { ...world.activities(), ...recovery.activities() }, first.taskQueue);
    const running = second.run();
    await eventually(
      async () => (await first.handle.query<Progress>('progress')).steps.find((s) => s.step === 'rejoin')?.state === 'waiting',
      60_000,
      'the rejoin waiting for the lost hosts',
    );
    assert.deepEqual([...world.etcd.keys()], ['spare-1'], 'the spare is the only member');
    assert.deepEqual([...world.targets.keys()].sort(), [ADDRESS['spare-1']], 'the lost control planes are fenced, the spare serves');
    for (const name of ['cp-2', 'cp-1', 'cp-3']) recovery.down.delete(name);
    const result = (await first.handle.result()) as RecoverResult;
    const progress = await first.handle.query<Progress>('progress');
    second.shutdown();
    await running;
    assert.equal(result.outcome, 'recovered');
    assert.equal(result.survivor, 'spare-1');
    assert.equal(world.count('restore:spare-1'), 1, 'restored exactly once');
    assert.deepEqual([...result.removedMembers].sort(), CONTROL_PLANES);
    assert.deepEqual(result.fenced, CONTROL_PLANES);
    assert.deepEqual(result.rejoined, CONTROL_PLANES, 'the lost control planes rejoin one at a time, in input order once all answer');
    for (const name of CONTROL_PLANES) assert.equal(world.count(`reset:${name}`), 1, `${name}'s old member reset once, before any join`);
    assert.deepEqual([...world.etcd.keys()].sort(), [...CONTROL_PLANES, 'spare-1']);
    assert.deepEqual([...world.targets.keys()].sort(), CONTROL_PLANES.map((n) => ADDRESS[n]).sort(), 'the spare is out of the load balancer again');
    assert.equal(world.count('init'), 1, 'kubeadm init ran once, in the bootstrap');
    assert.deepEqual(
      progress.steps.map((s) => [s.step, s.state]),
      [
        ['precheck', 'done'],
        ['approve', 'skipped'],
        ['restore', 'done'],
        ['verify-serving', 'done'],
        ['rejoin', 'done'],
        ['return-spare', 'done'],
        ['verify', 'done'],
      ],
    );
    assert.match(progress.facts['data-loss window'] ?? '', /the survivor had revision 90/);
  });
});
