/**
 * End to end from a real Alertmanager (Bearer auth, a route to kubeha's webhook) to FailoverToEast on
 * a real Temporal dev server with stub activities: one alert makes exactly one execution, repeats and
 * duplicates become signals, and the resolution fails back after the hysteresis window.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FailoverStatus } from '../../common/inputs/failoverToEast';
import type { FailoverResult } from '../../workflows/failover';
import { failoverWorker, FakeFailoverWorld } from '../failover/fakeFailoverWorld';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { startAlertmanager, type TestAlertmanager } from './alertmanagerProcess';
import { executions, request, startTestWebhook, TOKEN, webhookConfig, type TestWebhook } from './helpers';

let env: TestWorkflowEnvironment;
let world: FakeFailoverWorld;
let worker: Worker;
let running: Promise<void>;
let hook: TestWebhook;
let alertmanager: TestAlertmanager;

const WEST = 'west-am';
const workflowId = `failover-${WEST}-to-east`;

before(async () => {
  env = await startTestTemporal();
  world = new FakeFailoverWorld();
  const started = await failoverWorker(env, world.allActivities());
  worker = started.worker;
  running = worker.run();
  // Dedupe off: every delivery Alertmanager makes reaches the workflow as a signal.
  hook = await startTestWebhook(env, webhookConfig({ dedupeSeconds: 0 }, WEST), started.taskQueue);
  alertmanager = await startAlertmanager({ webhookUrl: hook.url, bearerToken: TOKEN });
});

after(async () => {
  await alertmanager?.stop();
  await hook?.close();
  worker?.shutdown();
  await running;
  await env?.teardown();
});

function westDown(endsAt: Date) {
  return [
    {
      labels: { alertname: 'WestDown', severity: 'critical', cluster: WEST },
      annotations: { summary: 'west cluster is down' },
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: endsAt.toISOString(),
    },
  ];
}

describe('Alertmanager → webhook → FailoverToEast', { timeout: 120_000 }, () => {
  test('one alert, exactly one execution; repeats are signals; the resolution fails back after the window', async () => {
    await alertmanager.postAlerts(westDown(new Date(Date.now() + 3600_000)));
    const handle = env.client.workflow.getHandle(workflowId);
    const failedOver = await eventually(
      async () => {
        const s = await handle.query<FailoverStatus>('status');
        return s.state === 'failed-over' ? s : undefined;
      },
      30_000,
      `failover via Alertmanager (log: ${alertmanager.log().slice(-500)})`,
    );
    assert.deepEqual(failedOver.eastPercent, { 'test/podinfo': 100 });

    // Prometheus re-sends firing alerts; Alertmanager repeats the notification every repeat_interval.
    for (let i = 0; i < 3; i++) await alertmanager.postAlerts(westDown(new Date(Date.now() + 3600_000)));
    const repeated = await eventually(
      async () => {
        const s = await handle.query<FailoverStatus>('status');
        return s.notifications.firing >= 2 ? s : undefined;
      },
      30_000,
      'a repeated notification',
    );
    assert.ok(repeated.notifications.duplicates >= 1, JSON.stringify(repeated.notifications));
    assert.equal(await executions(env, workflowId), 1);

    const resolvedAt = Date.now();
    await alertmanager.postAlerts(westDown(new Date(Date.now() - 1000)));
    const result = (await handle.result()) as FailoverResult;
    assert.equal(result.outcome, 'failed-back');
    assert.ok(Date.now() - resolvedAt >= 2000, 'failed back before the hysteresis window');
    assert.ok(result.notifications.resolved >= 1);
    assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
    assert.equal(await executions(env, workflowId), 1);

    const metrics = await request(`${hook.server.url}/metrics`);
    assert.match(metrics.text, /kubeha_webhook_requests_total\{outcome="accepted"\} \d+/);
    assert.doesNotMatch(metrics.text, /outcome="unauthorized"/, "Alertmanager's Bearer credentials were refused");
  });
});
