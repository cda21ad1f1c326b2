/**
 * The whole chain when west loses the zone of its etcd majority, on the lab pair of failover.test.ts:
 * the three control planes stopped (their etcd members with them), one alert through Alertmanager.
 * FailoverToEast moves traffic to east and, finding west's quorum lost, starts RecoverControlPlane; an
 * operator approves it; the spare is restored from its own data and serves west's API through the load
 * balancer, the canary still there. The three come back and rejoin, the spare leaves the load balancer,
 * the alert resolves and the failover fails back. Everything is driven through kubeha and Alertmanager.
 */
import assert from 'node:assert/strict';
import { failoverWorkflowId, type FailoverStatus } from '../../../common/inputs/failoverToEast';
import { recoverWorkflowId } from '../../../common/inputs/recoverControlPlane';
import type { Progress } from '../../../common/progress';
import { labFault } from '../../../lab/orchestrator/faults';
import { LAB_FAILOVER_ALERT, loadBalancerName } from '../../../lab/orchestrator/inputs';
import type { FailoverResult } from '../../../workflows/failover';
import type { RecoverResult } from '../../../workflows/recover';
import { eventually } from '../../support/workflowHarness';
import { contextClient, westTargets } from './failoverLab';
import { kubeadmRuns } from './support';
import type { WestLostContext } from './westLost';

const incident = { startsAt: '', postedAt: 0 };
const zoneLost = (endsAt: Date) => ({
  labels: { ...LAB_FAILOVER_ALERT, cluster: 'west' },
  annotations: { summary: "west's control-plane zone is down" },
  startsAt: incident.startsAt,
  endsAt: endsAt.toISOString(),
});

/** Alert → FailoverToEast → RecoverControlPlane (approved) → west serves from the spare → rejoin → failback. */
export async function zoneLossChain({ lab, files, alertmanager, timings }: WestLostContext): Promise<void> {
  const west = lab.lab.state.hosts.filter((h) => h.cluster === 'west');
  const cps = west.filter((h) => h.role === 'control-plane');
  const spare = west.find((h) => h.role === 'spare-control-plane')!;
  const lb = loadBalancerName('west', lab.lab.state.topology.hostsBlockLabel);
  const api = contextClient(files, 'west');
  await eventually(
    async () => {
      const targets = await westTargets(lab, lb);
      return cps.every((h) => targets[h.address] === 'healthy');
    },
    180_000,
    "west's control planes healthy targets",
  );
  await api.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'chain-canary' }, data: { song: 'coo' } });

  for (const h of cps) await labFault('host-stop', [h.name], lab.dataDir);
  // Prometheus fires after its `for:` period; by then the load balancer's health checks see every target fail.
  await eventually(async () => Object.values(await westTargets(lab, lb)).every((s) => s !== 'healthy'), 90_000, "west's targets unhealthy");
  incident.postedAt = Date.now();
  incident.startsAt = new Date().toISOString();
  await alertmanager.postAlerts([zoneLost(new Date(Date.now() + 3600_000))]);

  const failover = lab.client.workflow.getHandle(failoverWorkflowId('west', 'east'));
  const started = await eventually(
    async () => {
      const s = await failover.query<FailoverStatus>('status').catch(() => undefined);
      return s?.recovery && s.decisions.some((d) => d.what === 'RecoveryStarted' && Date.parse(d.at) >= incident.postedAt - 1000) ? s : undefined;
    },
    5 * 60_000,
    `FailoverToEast starting RecoverControlPlane (alertmanager log: ${alertmanager.log().slice(-400)})`,
  );
  timings.zoneAlertToRecoveryStartedMs = Date.now() - incident.postedAt;
  assert.deepEqual(started.recovery, { workflowId: recoverWorkflowId('west'), approval: 'required' });
  assert.match(started.decisions.find((d) => d.what === 'RecoveryStarted')?.why ?? '', /voters healthy, quorum 3/);

  const recovery = lab.client.workflow.getHandle(recoverWorkflowId('west'));
  const asking = await eventually(
    async () => {
      const p = await recovery.query<Progress>('progress');
      return p.phase === 'waiting' && /approval/.test(p.waitingFor ?? '') ? p : undefined;
    },
    120_000,
    'the recovery asking for approval',
  );
  assert.match(asking.waitingFor ?? '', new RegExp(`restore etcd from ${spare.name}`));
  await recovery.signal('approve', { by: 'e2e-operator' });
  await eventually(
    async () => (await recovery.query<Progress>('progress')).steps.find((s) => s.step === 'verify-serving')?.state === 'done',
    300_000,
    'west serving from the restored spare',
  );
  timings.zoneAlertToWestServingMs = Date.now() - incident.postedAt;
  assert.deepEqual((await api.get<{ data: unknown }>('/api/v1/namespaces/default/configmaps/chain-canary')).data, { song: 'coo' });
  // The shift goes on beside the recovery (its steps pause between them): traffic ends on east either way.
  await eventually(async () => (await failover.query<FailoverStatus>('status')).state === 'failed-over', 120_000, 'the failover to finish its shift');

  for (const h of cps) await labFault('host-start', [h.name], lab.dataDir);
  const recovered = (await recovery.result()) as RecoverResult;
  assert.equal(recovered.outcome, 'recovered');
  assert.equal(recovered.survivor, spare.name);
  assert.equal(recovered.approvedBy, 'e2e-operator');
  assert.deepEqual([...recovered.rejoined].sort(), cps.map((h) => h.name).sort());
  const targets = await westTargets(lab, lb);
  assert.deepEqual(
    cps.map((h) => targets[h.address]),
    cps.map(() => 'healthy'),
  );
  assert.notEqual(targets[spare.address], 'healthy', 'the spare left the load balancer once the control planes were back');

  await alertmanager.postAlerts([zoneLost(new Date(Date.now() - 1000))]);
  const result = (await failover.result()) as FailoverResult;
  assert.equal(result.outcome, 'failed-back');
  timings.zoneAlertToFailedBackMs = Date.now() - incident.postedAt;
  const since = new Date(incident.postedAt - 1000).toISOString();
  for (const id of [failoverWorkflowId('west', 'east'), recoverWorkflowId('west')]) {
    const runs: unknown[] = [];
    for await (const e of lab.client.workflow.list({ query: `WorkflowId = '${id}' AND StartTime > '${since}'` })) runs.push(e);
    assert.equal(runs.length, 1, `one ${id} for the incident`);
  }
  assert.equal(
    west.reduce((n, h) => n + kubeadmRuns(lab.lab.paths.labDir, h.name, 'init'), 0),
    1,
    "kubeadm init ran once over west's life",
  );
}
