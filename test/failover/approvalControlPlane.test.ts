/**
 * FailoverToEast's approval (timeouts with either default, the update, the reject signal) and its
 * control-plane step (the spare registered only with etcd quorum and unhealthy targets), on a real
 * Temporal dev server with stub activities (FakeFailoverWorld).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FailoverToEastInput } from '../../common/inputs/failoverToEast';
import type { FailoverResult } from '../../workflows/failover';
import { recoverWorkflowId } from '../../common/inputs/recoverControlPlane';
import { bootstrapInput } from '../support/inputs';
import { startTestTemporal } from '../support/temporal';
import { failoverInput, failoverWorker, FakeFailoverWorld, notification } from './fakeFailoverWorld';
import { controlPlaneInput, seedEtcd, startFiringOn, untilState } from './workflowRuns';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const startFiring = (input: FailoverToEastInput, taskQueue: string, workflowId?: string) => startFiringOn(env.client, input, taskQueue, workflowId);

describe('FailoverToEast: approval and the control plane', { timeout: 180_000 }, () => {
  test('approval: a timeout with default reject changes nothing', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const input = failoverInput({ approval: { required: true, timeoutMinutes: 0.02, onTimeout: 'reject' } });
    const result = await worker.runUntil(async () => (await startFiring(input, taskQueue)).result() as Promise<FailoverResult>);
    assert.equal(result.outcome, 'rejected');
    assert.match(result.reasons[0], /timeout/);
    assert.deepEqual(world.shiftRequests, []);
  });

  test('approval: a timeout with default approve goes ahead and says so', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const input = failoverInput({ approval: { required: true, timeoutMinutes: 0.02, onTimeout: 'approve' } });
    await worker.runUntil(async () => {
      const handle = await startFiring(input, taskQueue);
      const s = await untilState(handle, 'failed-over');
      assert.match(s.approvedBy ?? '', /^timeout/);
      await handle.signal('failback');
      await handle.result();
    });
    assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
  });

  test('approval: the update records who approved; a second answer is refused', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const input = failoverInput({ approval: { required: true, timeoutMinutes: 10, onTimeout: 'reject' } });
    await worker.runUntil(async () => {
      const handle = await startFiring(input, taskQueue);
      await untilState(handle, 'awaiting-approval');
      assert.deepEqual(world.shiftRequests, []);
      const answer = await handle.executeUpdate('approval', { args: [{ decision: 'approve', by: 'alice', comment: 'west is gone' }] });
      assert.deepEqual(answer, { decision: 'approve', by: 'alice' });
      await assert.rejects(handle.executeUpdate('approval', { args: [{ decision: 'reject', by: 'bob' }] }), (err: Error) =>
        /already decided: approve by alice/.test(String((err.cause as Error)?.message)),
      );
      const s = await untilState(handle, 'failed-over');
      assert.equal(s.approvedBy, 'alice');
      assert.ok(s.decisions.some((d) => d.what === 'Approved' && /alice: west is gone/.test(d.why)));
      await handle.signal('failback');
      await handle.result();
    });
  });

  test('approval: a "reject" signal stops the failover', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const input = failoverInput({ approval: { required: true, timeoutMinutes: 10, onTimeout: 'approve' } });
    const result = await worker.runUntil(async () => {
      const handle = await startFiring(input, taskQueue);
      await untilState(handle, 'awaiting-approval');
      await handle.signal('reject', { by: 'bob', comment: 'planned maintenance' });
      return (await handle.result()) as FailoverResult;
    });
    assert.equal(result.outcome, 'rejected');
    assert.match(result.reasons[0], /rejected by bob: planned maintenance/);
    assert.deepEqual(world.shiftRequests, []);
  });

  test('control plane: with every registered target unhealthy and etcd quorum, the spare is registered and waited for', async () => {
    const world = new FakeFailoverWorld();
    for (const ip of ['10.0.1.11', '10.0.1.12', '10.0.1.13']) world.targets.set(ip, 'unhealthy');
    seedEtcd(world, 3);
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput({ controlPlane: controlPlaneInput() }), taskQueue);
      const s = await untilState(handle, 'failed-over');
      assert.deepEqual(s.sparesRegistered, ['spare-1']);
      assert.match(
        s.decisions.find((d) => d.what === 'SpareRegistered')?.why ?? '',
        /0 of 3 registered control-plane targets healthy.*3 of 4 voters healthy, quorum 3/,
      );
      await handle.signal('alert', notification('resolved'));
      const result = (await handle.result()) as FailoverResult;
      assert.deepEqual(result.sparesRegistered, ['spare-1']);
    });
    assert.equal(world.count('register:10.0.2.11'), 1);
    assert.equal(world.targets.get('10.0.2.11'), 'healthy');
    assert.equal(world.calls.filter((c) => c.name === 'deregisterTarget').length, 0, 'failover never deregisters');
    const register = world.calls.find((c) => c.name === 'registerTarget');
    assert.ok(register, 'registered');
  });

  test('control plane: without etcd quorum the spare is not registered, and traffic still moves', async () => {
    const world = new FakeFailoverWorld();
    for (const ip of ['10.0.1.11', '10.0.1.12', '10.0.1.13']) world.targets.set(ip, 'unhealthy');
    seedEtcd(world, 2);
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput({ controlPlane: controlPlaneInput() }), taskQueue);
      const s = await untilState(handle, 'failed-over');
      assert.deepEqual(s.sparesRegistered, []);
      assert.match(s.decisions.find((d) => d.what === 'SpareNotRegistered')?.why ?? '', /2 of 4 voters healthy, quorum 3/);
      assert.deepEqual(s.eastPercent, { 'test/podinfo': 100 });
      await handle.signal('failback');
      await handle.result();
    });
    assert.equal(world.calls.filter((c) => c.name === 'registerTarget').length, 0);
  });

  test('control plane: without etcd quorum a recovery of west is started once, with approval by default; "never" starts none', async () => {
    const world = new FakeFailoverWorld();
    for (const ip of ['10.0.1.11', '10.0.1.12', '10.0.1.13']) world.targets.set(ip, 'unhealthy');
    seedEtcd(world, 1);
    const recovery = { cluster: bootstrapInput({ clusterName: `west-${randomUUID().slice(0, 8)}` }), precheck: { windowSeconds: 3600, intervalSeconds: 300 } };
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput({ controlPlane: { ...controlPlaneInput(), recovery } }), taskQueue);
      const s = await untilState(handle, 'failed-over');
      const id = recoverWorkflowId(recovery.cluster.clusterName);
      assert.deepEqual(s.recovery, { workflowId: id, approval: 'required' });
      assert.match(
        s.decisions.find((d) => d.what === 'RecoveryStarted')?.why ?? '',
        new RegExp(`started RecoverControlPlane ${id} \\(waits for an "approve" signal.*1 of 4 voters healthy, quorum 3`),
      );
      const child = env.client.workflow.getHandle(id);
      assert.equal((await child.describe()).type, 'RecoverControlPlane');
      const started = (await child.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      assert.ok(started?.parentWorkflowExecution, 'started by the failover');
      await handle.signal('failback');
      await handle.result();
      assert.equal((await child.describe()).status.name, 'RUNNING', 'the recovery outlives the failover');
      await child.terminate('test done');

      const never = await startFiring(failoverInput({ controlPlane: { ...controlPlaneInput(), recover: 'never', recovery } }), taskQueue);
      const n = await untilState(never, 'failed-over');
      assert.equal(n.recovery, undefined);
      assert.match(n.decisions.find((d) => d.what === 'RecoveryNotStarted')?.why ?? '', /controlPlane.recover is "never"/);
      await never.signal('failback');
      await never.result();
    });
  });

  test('control plane: healthy registered targets leave the spare out', async () => {
    const world = new FakeFailoverWorld();
    world.targets.set('10.0.1.11', 'healthy');
    world.targets.set('10.0.1.12', 'unhealthy');
    seedEtcd(world, 4);
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput({ controlPlane: controlPlaneInput() }), taskQueue);
      const s = await untilState(handle, 'failed-over');
      assert.ok(s.decisions.some((d) => d.what === 'ControlPlaneHealthy'));
      await handle.signal('failback');
      await handle.result();
    });
    assert.equal(world.calls.filter((c) => c.name === 'registerTarget' || c.name === 'etcdMembers').length, 0);
  });
});
