/**
 * A late delivery for a failover that has ended: the firing of an incident the pair's last run already
 * handled (Alertmanager retries it, or an HA peer sends it after the resolution) must not start a second
 * failover. A new incident of the same alert starts one. The real dispatcher, the real FailoverToEast
 * and a dev server; stub activities.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Dispatcher } from '../../client/webhook/dispatch';
import type { Route } from '../../client/webhook/config';
import type { Notification } from '../../client/webhook/payload';
import { failoverWorkflowId } from '../../common/inputs/failoverToEast';
import { failoverInput, failoverWorker, FakeFailoverWorld } from '../failover/fakeFailoverWorld';
import { startTestTemporal } from '../support/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

function delivery(status: 'firing' | 'resolved', startsAt: string): Notification {
  const alert = {
    status,
    labels: { alertname: 'WestDown', cluster: 'lw' },
    annotations: {},
    startsAt,
    endsAt: status === 'resolved' ? '2025-01-01T00:10:00Z' : '0001-01-01T00:00:00Z',
    generatorURL: '',
    fingerprint: 'fp-late',
  };
  return {
    version: '4',
    groupKey: '{}:{alertname="WestDown"}',
    truncatedAlerts: 0,
    status,
    receiver: 'kubeha',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    alerts: [alert],
  } as unknown as Notification;
}

test('a firing of an incident the closed run handled starts nothing; a new incident starts a new run', { timeout: 120_000 }, async () => {
  const world = new FakeFailoverWorld();
  const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
  const failover = failoverInput({ west: { name: 'lw', kubeconfigSecret: 'clusters/west/admin-kubeconfig' } });
  const workflowId = failoverWorkflowId('lw', 'east');
  const route = { name: 'lw-down', matchers: [], action: 'failover', failover, workflowId } as unknown as Extract<Route, { action: 'failover' }>;
  const dispatcher = new Dispatcher({ client: env.client, taskQueue, timeoutMs: 10_000, dedupeSeconds: 0 });
  const send = (n: Notification) => dispatcher.dispatch(n, route, n.alerts, new Date());
  await worker.runUntil(async () => {
    assert.equal((await send(delivery('firing', '2025-01-01T00:00:00Z'))).kind, 'signal_with_start');
    const first = await env.client.workflow.getHandle(workflowId).describe();
    await new Promise((r) => setTimeout(r, 1_000));
    await send(delivery('resolved', '2025-01-01T00:00:00Z'));
    const result = (await env.client.workflow.getHandle(workflowId).result()) as { outcome: string; incidents: string[] };
    assert.equal(result.outcome, 'failed-back');
    assert.deepEqual(result.incidents, ['fp-late|2025-01-01T00:00:00Z']);

    const late = await send(delivery('firing', '2025-01-01T00:00:00Z'));
    assert.deepEqual([late.kind, late.handledBy], ['already_handled', first.runId]);
    const after = await env.client.workflow.getHandle(workflowId).describe();
    assert.equal(after.runId, first.runId, 'no new run was started');
    assert.equal(after.status.name, 'COMPLETED');

    const fresh = await send(delivery('firing', '2025-01-01T02:00:00Z'));
    assert.equal(fresh.kind, 'signal_with_start');
    const second = await env.client.workflow.getHandle(workflowId).describe();
    assert.notEqual(second.runId, first.runId, 'a new incident starts a new failover');
    await env.client.workflow.getHandle(workflowId).signal('failback');
    await env.client.workflow.getHandle(workflowId).result();
  });
});
