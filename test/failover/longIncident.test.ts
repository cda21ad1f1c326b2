/**
 * A long incident stays within Temporal's history limits: FailoverToEast with 50 services, many alert
 * deliveries while it holds, and a long failback window in which west stays unhealthy. On a dev server
 * told to suggest continue-as-new early (so the test takes minutes, not hours), the run hands over to
 * new runs while it waits; every run stays far below the 10,240-event warning; the state survives each
 * hand-over (alert counts, incidents, the window, the approval-free decisions); traffic moves exactly
 * 0 → 50 → 100 → 50 → 0 once. The check rounds cost one probe activity each, whatever the number of
 * services; the figures for a 12-hour incident at the default check interval are printed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FailoverStatus } from '../../common/inputs/failoverToEast';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { temporalCliPath } from '../../lib/paths';
import type { FailoverResult } from '../../workflows/failover';
import { eventually } from '../support/workflowHarness';
import { failoverInput, failoverWorker, FakeFailoverWorld, notification, WEST } from './fakeFailoverWorld';

/** The server suggests continue-as-new past this many events (its default is 4,096; 10,240 warns). */
const SUGGEST_AT = 400;
const SERVICES = 50;
let env: TestWorkflowEnvironment;

before(async () => {
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: ['--log-level', 'error', '--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AT}`],
    },
  });
});
after(async () => {
  await env?.teardown();
});

interface RunFigures {
  runId: string;
  status: string;
  events: number;
  /** Whether the run was continued from an earlier one (it started in a wait). */
  resumed: boolean;
}

async function runsOf(workflowId: string): Promise<RunFigures[]> {
  const runs: RunFigures[] = [];
  for await (const run of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await env.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    runs.push({ runId: run.runId, status: run.status.name, events: history.events?.length ?? 0, resumed: Boolean(started?.continuedExecutionRunId) });
  }
  return runs;
}

test('a long incident with 50 services continues as new while it waits, each run small, nothing lost or repeated', { timeout: 600_000 }, async () => {
  const world = new FakeFailoverWorld();
  const services = Array.from({ length: SERVICES }, (_, i) => ({ namespace: 'test', name: `svc-${String(i).padStart(2, '0')}` }));
  const input = failoverInput({ services, steps: [50, 100], failback: { hysteresisSeconds: 3, checkIntervalSeconds: 1, automatic: true } });
  const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
  const workflowId = `long-incident-${Date.now()}`;
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('FailoverToEast', {
      args: [input],
      taskQueue,
      workflowId,
      signal: 'alert',
      signalArgs: [notification('firing', 'fp-long', '2025-01-01T00:00:00Z')],
    });
    await eventually(async () => ((await handle.query<FailoverStatus>('status')).state === 'failed-over' ? true : undefined), 60_000, 'failed over');

    // Hours of holding: Alertmanager repeats the firing notification (each one a signal in the history).
    const repeats = 150;
    for (let i = 0; i < repeats; i++) await handle.signal('alert', notification('firing', 'fp-long', '2025-01-01T00:00:00Z'));
    const held = await eventually(
      async () => {
        const s = await handle.query<FailoverStatus>('status');
        return s.notifications.total >= repeats + 1 ? s : undefined;
      },
      120_000,
      'every repeat counted, across runs',
    );
    assert.equal(held.state, 'failed-over');

    // Resolved, but west stays unhealthy for many check rounds: the window waits, round after round.
    for (const s of services) world.setReady(WEST, s.namespace, s.name, 0);
    await handle.signal('alert', notification('resolved', 'fp-long', '2025-01-01T00:00:00Z'));
    const rounds = 120;
    await eventually(async () => (world.probeRounds >= rounds ? true : undefined), 300_000, `${rounds} check rounds`);
    for (const s of services) world.setReady(WEST, s.namespace, s.name, 1);
    return (await env.client.workflow.getHandle(workflowId).result()) as FailoverResult;
  });

  assert.equal(result.outcome, 'failed-back');
  assert.deepEqual(result.incidents, ['fp-long|2025-01-01T00:00:00Z']);
  assert.equal(result.notifications.total, 152, 'every delivery counted once, across the runs');
  assert.deepEqual(world.shiftRequests.slice(0, SERVICES), Array(SERVICES).fill(50));
  const distinct = world.shiftRequests.filter((p, i, all) => i === 0 || p !== all[i - 1]);
  assert.deepEqual(distinct, [50, 100, 50, 0], 'traffic moved once each way');
  assert.equal(world.shiftRequests.length, 4 * SERVICES, 'no shift repeated by a later run');
  assert.deepEqual(world.repeated(), []);

  const runs = await runsOf(workflowId);
  const continued = runs.filter((r) => r.status === 'CONTINUED_AS_NEW');
  assert.ok(continued.length >= 2, `continued as new ${continued.length} time(s): ${JSON.stringify(runs)}`);
  assert.equal(runs.filter((r) => r.status === 'COMPLETED').length, 1);
  const largest = Math.max(...runs.map((r) => r.events));
  assert.ok(largest < 10_240, `largest run ${largest} events`);
  // A run that starts and ends in a wait hands over at the first chance after the suggestion (the first
  // run also holds the precheck and the shift of 50 services; the last one the shift back).
  const waiting = runs.filter((r) => r.resumed && r.status === 'CONTINUED_AS_NEW');
  assert.ok(waiting.length >= 1, JSON.stringify(runs));
  for (const r of waiting) assert.ok(r.events < SUGGEST_AT + 100, `run ${r.runId}: ${r.events} events, suggestion at ${SUGGEST_AT}`);

  // The figures for a real incident: events per check round, and what 12 hours at 15 s would make.
  const total = runs.reduce((n, r) => n + r.events, 0);
  process.stdout.write(
    `long incident: ${runs.length} runs (${runs.map((r) => r.events).join(', ')} events), ${total} in all; ${world.probeRounds} check rounds for ${SERVICES} services (one probe activity each)\n`,
  );
  process.stdout.write(
    `12 h at the default 15 s check interval = 2880 rounds; each run hands over at the server's suggestion (4,096 by default), below the 10,240 warning\n`,
  );
});
