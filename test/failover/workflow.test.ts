/**
 * FailoverToEast's decisions, on a real Temporal dev server with stub activities (FakeFailoverWorld).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { failureType } from '../../common/errors';
import type { FailoverToEastInput } from '../../common/inputs/failoverToEast';
import type { Progress } from '../../common/progress';
import type { FailoverResult } from '../../workflows/failover';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { EAST, failoverInput, failoverWorker, FakeFailoverWorld, notification, verificationFailure, WEST } from './fakeFailoverWorld';
import { newId, startFiringOn, status, untilState } from './workflowRuns';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const startFiring = (input: FailoverToEastInput, taskQueue: string, workflowId?: string) => startFiringOn(env.client, input, taskQueue, workflowId);

describe('FailoverToEast', { timeout: 180_000 }, () => {
  test('invalid input fails before any activity, naming every bad field', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const bad = { ...failoverInput(), steps: [100, 50], services: [], west: { name: 'West', kubeconfigSecret: WEST } };
    const err = await worker.runUntil(
      env.client.workflow.execute('FailoverToEast', { args: [bad], taskQueue, workflowId: newId('bad') }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(failureType(err), 'InvalidInput');
    const message = (err.cause as Error).message;
    for (const field of ['steps', 'services', 'west.name']) assert.match(message, new RegExp(field.replace('.', '\\.')));
    assert.equal(world.calls.length + world.shiftRequests.length, 0);
  });

  test('precheck refuses a dead east: nothing changes, the reasons are reported', async () => {
    const world = new FakeFailoverWorld();
    world.setReady(EAST, 'test', 'podinfo', 0);
    world.setReady(EAST, 'linkerd-multicluster', 'linkerd-gateway', -1);
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const result = await worker.runUntil(async () => (await startFiring(failoverInput(), taskQueue)).result() as Promise<FailoverResult>);
    assert.equal(result.outcome, 'refused');
    assert.equal(result.reasons.length, 2, JSON.stringify(result.reasons));
    assert.match(result.reasons.join('\n'), /east gateway linkerd-multicluster\/linkerd-gateway: service .* does not exist/);
    assert.match(result.reasons.join('\n'), /east service test\/podinfo: 0 ready/);
    assert.deepEqual(world.shiftRequests, []);
  });

  test('west answers but has no ready mirror of the east service: the shift fails before anything moves, naming the mirror', async () => {
    const world = new FakeFailoverWorld();
    world.setReady(WEST, 'test', 'podinfo-east', 0);
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const failure = await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput(), taskQueue);
      return handle.result().then(
        () => assert.fail('the run should fail'),
        (err: unknown) => err as WorkflowFailedError,
      );
    });
    assert.match(
      String(failure.cause?.message),
      /step shift-traffic failed: NotReady: west's mirror services are not ready: test\/podinfo-east: 0 ready endpoints/,
    );
    assert.deepEqual(world.shiftRequests, []);
  });

  test('fires, shifts 50 then 100 with an Event each, holds, and fails back after the window once resolved', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput(), taskQueue);
      const held = await untilState(handle, 'failed-over');
      assert.deepEqual(held.eastPercent, { 'test/podinfo': 100 });
      assert.deepEqual(world.shiftRequests, [50, 100]);
      const progress = await handle.query<Progress>('progress');
      assert.equal(progress.phase, 'waiting');
      assert.match(progress.waitingFor ?? '', /alert to resolve/);
      assert.deepEqual(
        progress.steps.filter((s) => s.state === 'done').map((s) => s.step),
        ['precheck', 'shift-traffic'],
      );
      const resolvedAt = Date.now();
      await handle.signal('alert', notification('resolved'));
      const result = (await handle.result()) as FailoverResult;
      assert.ok(Date.now() - resolvedAt >= 2000, 'failed back before the 2 s window');
      assert.equal(result.outcome, 'failed-back');
      assert.deepEqual(result.eastPercent, { 'test/podinfo': 0 });
      assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
      const final = await status(handle);
      const whats = final.decisions.map((d) => d.what);
      for (const w of ['AlertFiring', 'PrecheckPassed', 'Shifted', 'AlertResolved', 'WindowStarted', 'FailingBack'])
        assert.ok(whats.includes(w), `${w} in ${whats.join(',')}`);
      assert.match(final.decisions.find((d) => d.what === 'Shifted')?.why ?? '', /east 50% \(was 0%\).*1 alert\(s\) firing/);
    });
    assert.deepEqual(world.repeated(), []);
    assert.equal(world.events.size, 4, 'one Event per change');
  });

  test('repeats and duplicate deliveries are counted as signals, not new executions', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const workflowId = newId('dup');
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput(), taskQueue, workflowId);
      const again = await startFiring(failoverInput(), taskQueue, workflowId);
      await startFiring(failoverInput(), taskQueue, workflowId);
      assert.equal(again.workflowId, workflowId);
      const s = await untilState(handle, 'failed-over');
      assert.equal(s.notifications.total, 3);
      assert.equal(s.notifications.duplicates, 2);
      assert.deepEqual(s.firing, ['fp-west-down']);
      await handle.signal('failback', { by: 'test' });
      await handle.result();
    });
    const runs = [];
    for await (const r of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(r);
    assert.equal(runs.length, 1);
    assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
  });

  test('a verification failure mid-way stops at 50%, reports it, and "retry" resumes without repeating', async () => {
    const world = new FakeFailoverWorld();
    world.splitInjections.push({ eastPercent: 100, times: 1, error: verificationFailure() });
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput({ onFailure: 'wait' }), taskQueue);
      const held = await eventually(
        async () => {
          const p = await handle.query<Progress>('progress');
          return p.phase === 'waiting' && p.steps.find((s) => s.step === 'shift-traffic')?.state === 'failed' ? p : undefined;
        },
        20_000,
        'the shift to hold',
      );
      const shift = held.steps.find((s) => s.step === 'shift-traffic');
      assert.equal(shift?.reason, 'VerificationFailed');
      assert.match(shift?.message ?? '', /reads back east 50%/);
      assert.match(held.waitingFor ?? '', /retry/);
      assert.deepEqual((await status(handle)).eastPercent, { 'test/podinfo': 50 });
      assert.deepEqual(world.splits.get('test/podinfo'), { west: 50, east: 50 });
      world.newRun(); // the retried step asks again for what it had done: idempotent, not a repeat
      await handle.signal('retry');
      await untilState(handle, 'failed-over');
      await handle.signal('failback');
      await handle.result();
    });
    assert.deepEqual(world.shiftRequests, [50, 100, 100, 50, 0]);
    assert.deepEqual(world.repeated(), []);
  });

  test('flapping alerts within the window do not fail back; the last resolution does, after a full window', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput({ failback: { hysteresisSeconds: 3, checkIntervalSeconds: 1, automatic: true } }), taskQueue);
      await untilState(handle, 'failed-over');
      // Each flap is a new incident of the same alert: Alertmanager resolves it with its own startsAt.
      let startsAt = '2025-01-01T00:00:00Z';
      for (let flap = 0; flap < 3; flap++) {
        await handle.signal('alert', notification('resolved', 'fp-west-down', startsAt));
        await untilState(handle, 'failback-window');
        await new Promise((r) => setTimeout(r, 1500));
        startsAt = `2025-01-01T00:0${flap + 1}:00Z`;
        await handle.signal('alert', notification('firing', 'fp-west-down', startsAt));
        await untilState(handle, 'failed-over');
      }
      assert.deepEqual(world.shiftRequests, [50, 100], 'failed back while flapping');
      const lastResolution = Date.now();
      await handle.signal('alert', notification('resolved', 'fp-west-down', startsAt));
      await handle.result();
      assert.ok(Date.now() - lastResolution >= 3000, 'failback came before a full window');
      const s = await status(handle);
      assert.ok(s.decisions.filter((d) => d.what === 'WindowRestarted').length >= 3);
    });
    assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
  });

  test('an unhealthy west keeps the window from starting; failback waits for health', async () => {
    const world = new FakeFailoverWorld();
    world.setReady(WEST, 'test', 'podinfo', 0);
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(failoverInput(), taskQueue);
      await untilState(handle, 'failed-over');
      await handle.signal('alert', notification('resolved'));
      await untilState(handle, 'failback-window');
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(world.shiftRequests, [50, 100]);
      assert.ok((await status(handle)).decisions.some((d) => d.what === 'WaitingForWest'));
      world.setReady(WEST, 'test', 'podinfo', 2);
      await handle.result();
    });
    assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
  });

  test('a late resolution of an earlier incident does not end the hold', async () => {
    const world = new FakeFailoverWorld();
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart('FailoverToEast', {
        args: [failoverInput()],
        taskQueue,
        workflowId: newId('stale'),
        signal: 'alert',
        signalArgs: [notification('firing', 'fp-west-down', '2025-01-02T00:00:00Z')],
      });
      await untilState(handle, 'failed-over');
      await handle.signal('alert', notification('resolved', 'fp-west-down', '2025-01-01T00:00:00Z'));
      const s = await eventually(
        async () => {
          const st = await status(handle);
          return st.decisions.some((d) => d.what === 'StaleResolutionIgnored') ? st : undefined;
        },
        10_000,
        'the stale resolution',
      );
      assert.equal(s.state, 'failed-over');
      assert.deepEqual(s.firing, ['fp-west-down']);
      await handle.signal('alert', notification('resolved', 'fp-west-down', '2025-01-02T00:00:00Z'));
      await handle.result();
    });
    assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
  });

  test('a worker crash while failed over resumes in the same state', async () => {
    const world = new FakeFailoverWorld();
    const taskQueue = `failover-crash-${Date.now()}`;
    const workflowId = newId('crash');
    const first = await failoverWorker(env, world.allActivities(), taskQueue);
    const running = first.worker.run();
    const handle = await startFiring(failoverInput(), taskQueue, workflowId);
    await untilState(handle, 'failed-over');
    first.worker.shutdown();
    await running;

    const second = await failoverWorker(env, world.allActivities(), taskQueue);
    await second.worker.runUntil(async () => {
      const s = await status(handle);
      assert.equal(s.state, 'failed-over');
      assert.deepEqual(s.eastPercent, { 'test/podinfo': 100 });
      await handle.signal('alert', notification('resolved'));
      await handle.result();
    });
    assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
    assert.deepEqual(world.repeated(), []);
  });
});
