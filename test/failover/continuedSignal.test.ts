/**
 * A signal that arrives with a continued run's first task is counted on top of the state the earlier run
 * handed over, not overwritten by it. The continued run's arguments (input and carried state) are read
 * from a real continue-as-new on a dev server told to suggest it early, then started again under a new
 * id with one alert in its first task (signal-with-start), which makes the order deterministic.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FailoverStatus } from '../../common/inputs/failoverToEast';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { temporalCliPath } from '../../lib/paths';
import type { FailoverCarry } from '../../workflows/failover/continueAsNew';
import { eventually } from '../support/workflowHarness';
import { failoverInput, failoverWorker, FakeFailoverWorld, notification } from './fakeFailoverWorld';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: ['--log-level', 'error', '--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=120'],
    },
  });
});
after(async () => {
  await env?.teardown();
});

test("an alert in a continued run's first task is counted on top of the handed-over counts", { timeout: 300_000 }, async () => {
  const world = new FakeFailoverWorld();
  const input = failoverInput({ steps: [100], failback: { hysteresisSeconds: 3, checkIntervalSeconds: 1, automatic: true } });
  const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
  const firstId = `continued-${Date.now()}`;
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('FailoverToEast', {
      args: [input],
      taskQueue,
      workflowId: firstId,
      signal: 'alert',
      signalArgs: [notification('firing', 'fp-c')],
    });
    await eventually(async () => ((await handle.query<FailoverStatus>('status')).state === 'failed-over' ? true : undefined), 60_000, 'failed over');
    // Repeated firings until the run hands over while it holds.
    let continuedRunId: string | undefined;
    for (let i = 0; i < 200 && !continuedRunId; i++) {
      await handle.signal('alert', notification('firing', 'fp-c'));
      const started = (await env.client.workflow.getHandle(firstId).describe()).raw.workflowExecutionInfo?.firstRunId;
      const latest = (await env.client.workflow.getHandle(firstId).describe()).runId;
      if (latest !== started) continuedRunId = latest;
    }
    assert.ok(continuedRunId, 'the run continued as new while it held');
    const history = await env.client.workflow.getHandle(firstId, continuedRunId).fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const [rawInput, carry] = payloads.map((p) => defaultPayloadConverter.fromPayload(p)) as [unknown, FailoverCarry];
    assert.equal(carry.resumeAt, 'hold');
    const handedOver = carry.status.notifications.total;
    assert.ok(handedOver > 1, `the carry holds the earlier counts (${handedOver})`);
    await env.client.workflow.getHandle(firstId).terminate('the test read what it needed');

    // The same continued run again, with one more alert in its first task.
    const again = await env.client.workflow.signalWithStart('FailoverToEast', {
      args: [rawInput, carry],
      taskQueue,
      workflowId: `${firstId}-again`,
      signal: 'alert',
      signalArgs: [notification('firing', 'fp-c')],
    });
    const status = await eventually(
      async () => {
        const s = await again.query<FailoverStatus>('status');
        return s.state === 'failed-over' ? s : undefined;
      },
      30_000,
      'holding again',
    );
    assert.equal(status.notifications.total, handedOver + 1, 'the first-task alert is counted, not overwritten');
    await again.terminate('done');
  });
});
