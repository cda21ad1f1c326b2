/**
 * West lost whole, on the lab pair of failover.test.ts (after its first incident): every west host
 * stopped, one new alert through Alertmanager. Route 53 alone moves the clients outside the mesh to east
 * (counted through the lab's DNS and the greeters) and the run never waits on west; then west comes back,
 * the alert resolves, west's split catches up to the DNS weights and every path fails back.
 */
import assert from 'node:assert/strict';
import { failoverWorkflowId, type FailoverStatus } from '../../../common/inputs/failoverToEast';
import type { Progress } from '../../../common/progress';
import { labFault } from '../../../lab/orchestrator/faults';
import type { LabGreeters } from '../../../lab/orchestrator/greeters';
import { LAB_FAILOVER_ALERT } from '../../../lab/orchestrator/inputs';
import type { LabPairFiles } from '../../../lab/orchestrator/pair';
import type { FailoverResult } from '../../../workflows/failover';
import { eventually } from '../../support/workflowHarness';
import type { TestAlertmanager } from '../../webhook/alertmanagerProcess';
import { contextClient, readSplit, type FailoverLab } from './failoverLab';
import { countAnswers, countGreetings, gtmRecordOf, readPairWeights } from './gtmClients';

/** What the scenario runs on: the pair, its files, the Alertmanager in front of kubeha's webhook. */
export interface WestLostContext {
  lab: FailoverLab;
  files: LabPairFiles & { greeters: LabGreeters };
  alertmanager: TestAlertmanager;
  timings: Record<string, number>;
}

/** The new incident: Prometheus sends it with the time it started firing, after the first one resolved. */
const incident = { startsAt: '', postedAt: 0 };
const westLost = (endsAt: Date) => ({
  labels: { ...LAB_FAILOVER_ALERT, cluster: 'west' },
  annotations: { summary: 'every west host is down' },
  startsAt: incident.startsAt,
  endsAt: endsAt.toISOString(),
});

const westHosts = (lab: FailoverLab) => lab.lab.state.hosts.filter((h) => h.cluster === 'west');
const labDns = (lab: FailoverLab) => lab.lab.state.aws!.dns!;

/** Every west host stopped, one alert: DNS to 0/100, ≥99% of 200 clients reach east, nothing waited on west. */
export async function westLostFailover({ lab, files, alertmanager, timings }: WestLostContext): Promise<void> {
  const record = gtmRecordOf(files);
  for (const h of westHosts(lab)) await labFault('host-stop', [h.name], lab.dataDir);
  await assert.rejects(contextClient(files, 'west').request('GET', '/readyz'), "west's API is gone");
  incident.postedAt = Date.now();
  incident.startsAt = new Date().toISOString();
  await alertmanager.postAlerts([westLost(new Date(Date.now() + 3600_000))]);
  const handle = lab.client.workflow.getHandle(failoverWorkflowId('west', 'east'));
  const failedOver = await eventually(
    async () => {
      const s = await handle.query<FailoverStatus>('status').catch(() => undefined);
      // The closed run of the first incident answers too (failed back, DNS on west): wait for the new one.
      return s && s.state === 'failed-over' && s.traffic[record.key]?.dns?.east === 100 ? s : undefined;
    },
    5 * 60_000,
    `the failover without west (alertmanager log: ${alertmanager.log().slice(-400)})`,
  );
  timings.westLostAlertToFailedOverMs = Date.now() - incident.postedAt;
  assert.deepEqual(await readPairWeights(record.endpoint, record.record), { west: 0, east: 100 });
  assert.match(failedOver.traffic[record.key].westSplit?.skipped ?? '', /west's API does not answer/);
  // The run never waited on west: the precheck asked east and Route 53 only, the shift ran once.
  const progress = await handle.query<Progress>('progress');
  const precheck = progress.steps.find((st) => st.step === 'precheck');
  assert.ok(precheck && precheck.hosts.length > 0 && precheck.hosts.every((h) => !/west/.test(h.host)), JSON.stringify(precheck?.hosts));
  assert.equal(progress.steps.find((st) => st.step === 'shift-traffic')?.attempts, 1);
  assert.equal(failedOver.decisions.filter((d) => d.what === 'MeshSplitSkipped').length, 1);
  assert.match(progress.headline?.[0] ?? '', /DNS .* west 0 \/ east 100 · west's split left out/);
  // Clients outside the mesh: the lab DNS answers only east, and they reach east's greeter.
  assert.deepEqual(await countAnswers(labDns(lab), record.record.recordName, 50), { [files.greeters.east.address]: 50 });
  const greetings = await countGreetings(labDns(lab), record.record.recordName, 200);
  assert.ok((greetings['greetings from east'] ?? 0) >= 198, `at least 99% of 200 requests reach east: ${JSON.stringify(greetings)}`);
  const executions: unknown[] = [];
  const query = `WorkflowId = '${failoverWorkflowId('west', 'east')}' AND StartTime > '${new Date(incident.postedAt - 1000).toISOString()}'`;
  for await (const e of lab.client.workflow.list({ query })) executions.push(e);
  assert.equal(executions.length, 1, 'one execution for the new incident');
}

/** West back, the alert resolved: the split catches up to the DNS weights, then every path fails back. */
export async function westLostFailback({ lab, files, alertmanager, timings }: WestLostContext): Promise<void> {
  const record = gtmRecordOf(files);
  const handle = lab.client.workflow.getHandle(failoverWorkflowId('west', 'east'));
  for (const h of westHosts(lab)) await labFault('host-start', [h.name], lab.dataDir);
  await eventually(
    () =>
      contextClient(files, 'west')
        .request('GET', '/readyz')
        .then(
          () => true,
          () => undefined,
        ),
    3 * 60_000,
    "west's API through its load balancer",
  );
  await alertmanager.postAlerts([westLost(new Date(Date.now() - 1000))]);
  const result = (await handle.result()) as FailoverResult;
  assert.equal(result.outcome, 'failed-back');
  timings.westLostAlertToFailedBackMs = Date.now() - incident.postedAt;
  assert.deepEqual(await readPairWeights(record.endpoint, record.record), { west: 100, east: 0 });
  const status = await handle.query<FailoverStatus>('status');
  const order = status.decisions.map((d) => d.what);
  assert.ok(order.includes('MeshSplitCaughtUp') && order.indexOf('MeshSplitCaughtUp') < order.lastIndexOf('Shifted'), order.join(', '));
  const now = await readSplit(contextClient(files, 'west'));
  assert.deepEqual([now.west, now.east], [100, 0]);
  assert.deepEqual(await countAnswers(labDns(lab), record.record.recordName, 20), { [files.greeters.west.address]: 20 });
}
