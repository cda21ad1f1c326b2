/**
 * West loses the zone that holds its etcd majority, on the bootstrap end to end's lab: a canary
 * ConfigMap is written, the three control planes are stopped (host-stop, their etcd with them), and
 * RecoverControlPlane, approved by signal, restores quorum on the spare from its own data. The canary
 * reads back through the load balancer and writes work; when the three hosts start again they are reset
 * and rejoined one at a time, and the cluster ends as bootstrapped: 4 voters, the spare out of the load
 * balancer, `kubeadm init` run once over the cluster's life. Everything is read from the lab's records.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { FileSecretStore } from '../../../activities/secrets/store';
import type { BootstrapStackedEtcdInput } from '../../../common/inputs/bootstrapStackedEtcd';
import type { RecoverControlPlaneInput } from '../../../common/inputs/recoverControlPlane';
import type { Progress } from '../../../common/progress';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { labFault, type LabUpResult } from '../../../lab/orchestrator';
import type { RecoverResult } from '../../../workflows/recover';
import { eventually } from '../../support/workflowHarness';
import { frontStatus } from './labWorkerRun';
import { etcdMembers, kubeadmRuns } from './support';

/** What the scenario runs on: the bootstrapped lab, kubeha's client and worker queue. */
export interface ZoneLossContext {
  lab: LabUpResult;
  dataDir: string;
  client: Client;
  taskQueue: string;
  input: BootstrapStackedEtcdInput;
  kubeconfigSecret: string;
  timings: Record<string, number>;
}

async function targets(lab: LabUpResult): Promise<{ id: string; state: string }[]> {
  return (await frontStatus(lab.state.aws!.endpoint)).loadBalancers[0].targets;
}

/** The targets that take traffic or wait to (a deregistered one drains for the group's delay). */
async function activeTargets(lab: LabUpResult): Promise<string[]> {
  return (await targets(lab))
    .filter((t) => t.state !== 'draining')
    .map((t) => `${t.id}:${t.state}`)
    .sort();
}

function recoverInput(input: BootstrapStackedEtcdInput, windowSeconds: number): RecoverControlPlaneInput {
  return {
    cluster: input,
    precheck: { windowSeconds, intervalSeconds: 2 },
    approval: { required: true, timeoutMinutes: 10 },
    rejoin: { waitMinutes: 15, pollSeconds: 3 },
    onFailure: 'fail',
  };
}

/**
 * With quorum healthy, a recovery refuses and names the member that follows a leader; nothing changes.
 * The same with the first control plane cut off (lab fault isolate): it looks lost, the majority is not.
 */
export async function refusedWhileQuorumHolds(c: ZoneLossContext): Promise<void> {
  const refusal = async (workflowId: string): Promise<RecoverResult> => {
    const handle = await c.client.workflow.start('RecoverControlPlane', { taskQueue: c.taskQueue, workflowId, args: [recoverInput(c.input, 0)] });
    return (await handle.result()) as RecoverResult;
  };
  const healthy = await refusal('e2e-recover-refused');
  assert.equal(healthy.outcome, 'refused');
  assert.match(healthy.reason ?? '', /follows leader [0-9a-f]+ with 4 voter\(s\): quorum holds/);
  assert.equal(healthy.survivor, undefined);

  const [cp1, cp2] = c.lab.state.hosts.filter((h) => h.role === 'control-plane');
  await labFault('isolate', [cp1.name], c.dataDir);
  try {
    const isolated = await refusal('e2e-recover-refused-isolated');
    assert.equal(isolated.outcome, 'refused');
    assert.match(isolated.reason ?? '', /follows leader [0-9a-f]+ with 4 voter\(s\): quorum holds/);
  } finally {
    await labFault('rejoin', [cp1.name], c.dataDir);
  }
  assert.equal((await etcdMembers(c.lab.paths.labDir, cp2)).length, 4, 'no member removed');
  await eventually(async () => (await activeTargets(c.lab)).filter((t) => t.endsWith(':healthy')).length === 3, 60_000, 'cp-1 healthy again');
}

/** The zone of the three control planes lost, the spare restored, the three rejoined. */
export async function recoverFromZoneLoss(c: ZoneLossContext): Promise<void> {
  const cps = c.lab.state.hosts.filter((h) => h.role === 'control-plane');
  const api = new KubeClient(parseKubeconfig(await new FileSecretStore(path.join(c.dataDir, 'secrets')).get(c.kubeconfigSecret)));
  await api.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'canary' }, data: { song: 'tweet' } });

  for (const h of cps) await labFault('host-stop', [h.name], c.dataDir);
  try {
    await lostAndRecovered(c, api, Date.now());
  } finally {
    // Whatever failed, the hosts run again for the tests after this one (host-start of a running host does nothing).
    for (const h of cps) await labFault('host-start', [h.name], c.dataDir);
  }
}

async function lostAndRecovered(c: ZoneLossContext, api: KubeClient, lostAt: number): Promise<void> {
  const hosts = c.lab.state.hosts;
  const cps = hosts.filter((h) => h.role === 'control-plane');
  const spare = hosts.find((h) => h.role === 'spare-control-plane')!;
  // The load balancer's health checks notice before the recovery looks (its precheck would wait otherwise).
  await eventually(async () => (await targets(c.lab)).every((t) => t.state !== 'healthy'), 60_000, 'the stopped targets unhealthy');

  const handle = await c.client.workflow.start('RecoverControlPlane', {
    taskQueue: c.taskQueue,
    workflowId: 'e2e-recover-zone-a',
    args: [recoverInput(c.input, 6)],
  });
  let last: Progress | undefined;
  const waiting = await eventually(
    async () => {
      last = await handle.query<Progress>('progress');
      return last.phase === 'waiting' && /approval/.test(last.waitingFor ?? '') ? last : undefined;
    },
    120_000,
    'the approval request',
  ).catch((err: Error) => {
    const steps = last?.steps.map((st) => `${st.step} ${st.state} ${st.reason ?? ''} ${st.message ?? ''}`).join('; ');
    throw new Error(`${err.message}; the run: ${last?.phase}, ${steps}; facts ${JSON.stringify(last?.facts)}`);
  });
  assert.match(waiting.waitingFor ?? '', new RegExp(`restore etcd from ${spare.name}`));
  await handle.signal('approve', { by: 'e2e' });

  const serving = await eventually(
    async () => {
      const p = await handle.query<Progress>('progress');
      return p.steps.find((s) => s.step === 'verify-serving')?.state === 'done' ? p : undefined;
    },
    300_000,
    'the restored spare serving',
  );
  c.timings.zoneLostToServingMs = Date.now() - lostAt;
  assert.match(serving.facts['data-loss window'] ?? '', /the survivor had revision \d+/);
  const canary = await api.get('/api/v1/namespaces/default/configmaps/canary');
  assert.deepEqual(canary.data, { song: 'tweet' }, 'the canary reads back through the load balancer');
  await api.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-restore' }, data: {} });
  assert.deepEqual(
    (await etcdMembers(c.lab.paths.labDir, spare)).map((m) => m.name),
    [spare.name],
    'the spare is a one-member cluster',
  );
  assert.deepEqual(await activeTargets(c.lab), [`${spare.address}:healthy`], 'only the spare serves; the lost control planes are fenced (draining)');

  const rejoinStarted = Date.now();
  for (const h of cps) await labFault('host-start', [h.name], c.dataDir);
  const result = (await handle.result().catch((err: unknown) => {
    // The failure chain names the step, the host and the command's output: show it whole.
    throw new Error(`${(err as Error).message}: ${JSON.stringify((err as { cause?: unknown }).cause, null, 1)}`);
  })) as RecoverResult;
  c.timings.rejoinMs = Date.now() - rejoinStarted;
  assert.equal(result.outcome, 'recovered');
  assert.equal(result.survivor, spare.name);
  assert.equal(result.approvedBy, 'e2e');
  assert.deepEqual([...result.removedMembers].sort(), cps.map((h) => h.name).sort());
  assert.deepEqual([...result.rejoined].sort(), cps.map((h) => h.name).sort());

  const members = await etcdMembers(c.lab.paths.labDir, cps[0]);
  assert.deepEqual(members.map((m) => m.name).sort(), [...cps, spare].map((h) => h.name).sort());
  assert.ok(members.every((m) => !m.isLearner));
  assert.deepEqual(
    await activeTargets(c.lab),
    cps.map((h) => `${h.address}:healthy`).sort(),
    'the control planes serve again and the spare is out of the load balancer',
  );
  assert.deepEqual((await api.get('/api/v1/namespaces/default/configmaps/canary')).data, { song: 'tweet' });
  const inits = hosts.reduce((n, h) => n + kubeadmRuns(c.lab.paths.labDir, h.name, 'init'), 0);
  assert.equal(inits, 1, 'kubeadm init ran exactly once over the cluster life');
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.steps.find((s) => s.step === 'verify')?.state, 'done');
}
