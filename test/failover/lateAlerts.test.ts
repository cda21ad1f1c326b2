/**
 * Alertmanager delivers at least once: retries and HA peers can bring the "firing" of an incident after
 * its resolution. Such a late firing (same fingerprint, same startsAt) must not re-arm the failover; a
 * new incident of the same alert (a later startsAt) still does.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FailoverStatus } from '../../common/inputs/failoverToEast';
import type { FailoverResult } from '../../workflows/failover';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { failoverInput, failoverWorker, FakeFailoverWorld, notification } from './fakeFailoverWorld';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const status = (h: WorkflowHandle) => h.query<FailoverStatus>('status');
const until = (h: WorkflowHandle, state: FailoverStatus['state']) =>
  eventually(async () => ((await status(h)).state === state ? status(h) : undefined), 30_000, state);

async function failedOver(taskQueue: string, id: string): Promise<WorkflowHandle> {
  const handle = await env.client.workflow.signalWithStart('FailoverToEast', {
    args: [failoverInput({ failback: { hysteresisSeconds: 3, checkIntervalSeconds: 1, automatic: true } })],
    taskQueue,
    workflowId: id,
    signal: 'alert',
    signalArgs: [notification('firing', 'fp-1', '2025-01-01T00:00:00Z')],
  });
  await until(handle, 'failed-over');
  return handle;
}

test('a late firing of the incident that resolved is ignored: the failback goes ahead after the window', { timeout: 120_000 }, async () => {
  const world = new FakeFailoverWorld();
  const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
  const result = await worker.runUntil(async () => {
    const handle = await failedOver(taskQueue, `late-firing-${Date.now()}`);
    await handle.signal('alert', notification('resolved', 'fp-1', '2025-01-01T00:00:00Z'));
    // Alertmanager's retry of the old firing arrives during the hysteresis window.
    await handle.signal('alert', notification('firing', 'fp-1', '2025-01-01T00:00:00Z'));
    const s = await eventually(
      async () => {
        const now = await status(handle);
        return now.decisions.some((d) => d.what === 'LateFiringIgnored') ? now : undefined;
      },
      10_000,
      'the late firing noted',
    );
    assert.deepEqual(s.firing, [], 'nothing is firing');
    return (await handle.result()) as FailoverResult;
  });
  assert.equal(result.outcome, 'failed-back');
  assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
});

test('a new incident of the same alert (later startsAt) still re-arms the run', { timeout: 120_000 }, async () => {
  const world = new FakeFailoverWorld();
  const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
  await worker.runUntil(async () => {
    const handle = await failedOver(taskQueue, `new-incident-${Date.now()}`);
    await handle.signal('alert', notification('resolved', 'fp-1', '2025-01-01T00:00:00Z'));
    await handle.signal('alert', notification('firing', 'fp-1', '2025-01-01T01:00:00Z'));
    const s = await eventually(
      async () => {
        const now = await status(handle);
        return now.firing.length === 1 ? now : undefined;
      },
      10_000,
      'firing again',
    );
    assert.equal(
      s.decisions.some((d) => d.what === 'LateFiringIgnored'),
      false,
    );
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal((await status(handle)).state, 'failed-over', 'still held: the new incident fires');
    await handle.signal('failback');
    await handle.result();
  });
});
