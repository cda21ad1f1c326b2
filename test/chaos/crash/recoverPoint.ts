/**
 * The RecoverControlPlane crash points, on the full west lab as test/lab/e2e/zoneLoss.ts runs it: a
 * clean bootstrap, a canary ConfigMap, the three control planes stopped (host-stop), a recovery with
 * no approval to wait for; the worker is SIGKILLed during the restore on the spare or during a lost
 * host's rejoin, and another worker takes over. Judged from the lab: the survivor's etcd forced a new
 * cluster exactly once, the restored spare serves the canary alone, each lost host joined once (or
 * again only after a `kubeadm reset`), and at the end every member that answers is in ONE cluster of
 * four voters.
 */
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { FileSecretStore } from '../../../activities/secrets/store';
import type { BootstrapStackedEtcdInput } from '../../../common/inputs/bootstrapStackedEtcd';
import type { RecoverControlPlaneInput } from '../../../common/inputs/recoverControlPlane';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { labFault } from '../../../lab/orchestrator';
import type { RecoverResult } from '../../../workflows/recover';
import { eventually } from '../../support/workflowHarness';
import { frontStatus } from '../../lab/e2e/labWorkerRun';
import { kubeadmRuns } from '../../lab/e2e/support';
import type { Arena } from './arena';
import { describeTrigger, progressOf, type Trigger, waitForTrigger } from './observe';
import type { CrashPoint } from './points';
import { killAndResume, outcome } from './pointKit';
import { forcedStarts, hostRejoin, manifestForced, oneCluster } from './recoverRecords';
import { commandCount, commandsSince } from './records';
import type { PointResult } from './runPoint';

type RecoverPoint = Extract<CrashPoint, { kind: 'recover' }>;

const CANARY = { song: 'tweet' };
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The recovery as the zone-loss e2e test starts it, without the approval (FailoverToEast's `recover: "auto"` does the same). */
function recoverInput(cluster: BootstrapStackedEtcdInput): RecoverControlPlaneInput {
  return {
    cluster,
    // A short window: the hosts are stopped for good, and the load balancer already saw them go.
    precheck: { windowSeconds: 6, intervalSeconds: 2 },
    approval: { required: false },
    rejoin: { waitMinutes: 15, pollSeconds: 3 },
    onFailure: 'fail',
  };
}

/** A command trigger counts from the recovery's start: matches the host received before it are added. */
function fromNow(arena: Arena, trigger: Trigger): Trigger {
  if (trigger.kind !== 'command') return trigger;
  return { ...trigger, nth: commandsSince(arena.labUp, trigger.host, trigger.pattern) + (trigger.nth ?? 1) };
}

async function waitServing(handle: WorkflowHandle): Promise<void> {
  await eventually(
    async () => {
      const p = await progressOf(handle);
      if (p?.phase === 'failed')
        throw new Error(`the recovery failed before serving: ${p.steps.map((s) => `${s.step} ${s.state} ${s.message ?? ''}`).join('; ')}`);
      return p?.steps.find((s) => s.step === 'verify-serving')?.state === 'done';
    },
    10 * 60_000,
    'the restored spare serving (verify-serving done)',
  );
}

async function canaryBack(api: KubeClient, result: PointResult, when: string): Promise<void> {
  const read = await api.get('/api/v1/namespaces/default/configmaps/canary').catch((err: Error) => ({ error: err.message }));
  const data = (read as { data?: unknown }).data;
  if (JSON.stringify(data) !== JSON.stringify(CANARY)) result.problems.push(`the canary ${when} reads ${JSON.stringify(read).slice(0, 200)}`);
}

/** Runs the point (see the header); problems land in `result`. */
export async function recoverPoint(arena: Arena, point: RecoverPoint, result: PointResult): Promise<void> {
  result.trigger = `${describeTrigger(point.trigger)} (${point.stage})`;
  const lab = arena.labUp;
  const labDir = lab.paths.labDir;
  const hosts = lab.state.hosts;
  const cps = hosts.filter((h) => h.role === 'control-plane');
  const spare = hosts.find((h) => h.role === 'spare-control-plane');
  if (!spare || cps.length !== 3) throw new Error('the recovery points need the full west lab (3 control planes and a spare)');

  await arena.startWorker();
  const input = arena.bootstrapInput('fail');
  const bootstrapStarted = Date.now();
  await outcome(await arena.start('BootstrapStackedEtcd', `crash-${point.name}-bootstrap`, input));
  result.notes.push(`bootstrap ${seconds(Date.now() - bootstrapStarted)}`);
  const store = new FileSecretStore(path.join(arena.dataDir, 'secrets'));
  const api = new KubeClient(parseKubeconfig(await store.get(`clusters/${input.clusterName}/admin-kubeconfig`)));
  await api.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'canary' }, data: CANARY });

  const lostAt = Date.now();
  for (const h of cps) await labFault('host-stop', [h.name], arena.dataDir);
  // The load balancer's health checks notice before the recovery looks (its precheck would wait otherwise).
  await eventually(
    async () => (await frontStatus(lab.state.aws!.endpoint)).loadBalancers[0].targets.every((t) => t.state !== 'healthy'),
    60_000,
    'the stopped targets unhealthy',
  );
  const marks = Object.fromEntries(hosts.map((h) => [h.name, commandCount(lab, h.name)]));
  const forcedBefore = forcedStarts(labDir, spare.name);
  const manifestWrites = /etcd\.yaml\.kubeha\./;
  const handle = await arena.start('RecoverControlPlane', `crash-${point.name}`, recoverInput(input));

  if (point.stage === 'restore') {
    const approximately = await waitForTrigger(handle, lab, fromNow(arena, point.trigger), 10 * 60_000);
    if (approximately) result.notes.push(approximately);
    await killAndResume(arena, handle, result);
  }
  await waitServing(handle);
  result.notes.push(`lost to serving ${seconds(Date.now() - lostAt)}`);

  // The restore, from the survivor's own records.
  const forced = forcedStarts(labDir, spare.name) - forcedBefore;
  const writes = commandsSince(lab, spare.name, manifestWrites, marks[spare.name]);
  result.notes.push(`${spare.name}: etcd forced a new cluster ${forced}×, manifest written ${writes}× (force, then back)`);
  if (forced !== 1) result.problems.push(`${spare.name}'s etcd started with --force-new-cluster ${forced} times (expected once)`);
  result.duplicates += Math.max(0, forced - 1);
  if (manifestForced(labDir, spare.name) !== false)
    result.problems.push(`${spare.name}'s etcd manifest still forces a new cluster (or is gone) after the restore`);
  const alone = await oneCluster(labDir, [spare, ...cps], [spare.name]);
  result.problems.push(...alone.problems.map((p) => `after the restore: ${p}`));
  await canaryBack(api, result, 'after the restore');

  for (const h of cps) await labFault('host-start', [h.name], arena.dataDir);
  const rejoinStarted = Date.now();
  if (point.stage === 'rejoin') {
    const approximately = await waitForTrigger(handle, lab, fromNow(arena, point.trigger), 15 * 60_000);
    if (approximately) result.notes.push(approximately);
    await killAndResume(arena, handle, result);
  }
  const end = await outcome<RecoverResult>(handle, 25 * 60_000);
  result.completed = true;
  result.notes.push(`rejoin ${seconds(Date.now() - rejoinStarted)}`);
  if (end.outcome !== 'recovered' || end.survivor !== spare.name) result.problems.push(`outcome ${end.outcome} on ${end.survivor}`);
  await judgeEnd(arena, result, marks, api);
}

/** The end: each lost host joined once (or again after a reset), one cluster of four voters, the canary, init never again. */
async function judgeEnd(arena: Arena, result: PointResult, marks: Record<string, number>, api: KubeClient): Promise<void> {
  const lab = arena.labUp;
  const labDir = lab.paths.labDir;
  const cps = lab.state.hosts.filter((h) => h.role === 'control-plane');
  const spare = lab.state.hosts.find((h) => h.role === 'spare-control-plane')!;
  const joins: string[] = [];
  for (const h of cps) {
    const r = hostRejoin(labDir, h.name, marks[h.name]);
    joins.push(`${h.name.replace(/^west-/, '')}=${r.joins}${r.joins > 1 ? `(${r.resets} reset)` : ''}`);
    if (r.joins === 0) result.problems.push(`${h.name} never ran kubeadm join after the recovery started`);
    if (r.unexplained) result.problems.push(`${h.name} ran kubeadm join ${r.joins} times, ${r.unexplained} of them with no kubeadm reset before`);
    if (r.joins > 1 && !r.unexplained) result.notes.push(`${h.name} joined ${r.joins}× after ${r.resets} kubeadm reset(s): a repaired join`);
    result.duplicates += r.unexplained;
  }
  result.joins = joins.join(' ');
  result.inits = lab.state.hosts.reduce((n, h) => n + kubeadmRuns(labDir, h.name, 'init'), 0);
  if (result.inits !== 1) result.problems.push(`kubeadm init ran ${result.inits} times over the cluster's life`);
  const voters = [...cps, spare];
  const end = await oneCluster(
    labDir,
    voters,
    voters.map((h) => h.name),
  );
  result.notes.push(`members answering: ${end.views.length}, cluster ${end.views[0]?.clusterId ?? '?'}, leader ${end.views[0]?.leader ?? '?'}`);
  if (end.views.length !== voters.length) result.problems.push(`${end.views.length} of ${voters.length} members answer`);
  result.problems.push(...end.problems);
  const targets = (await frontStatus(lab.state.aws!.endpoint)).loadBalancers[0].targets.filter((t) => t.state !== 'draining');
  const serving = targets.map((t) => `${t.id}:${t.state}`).sort();
  const want = cps.map((h) => `${h.address}:healthy`).sort();
  if (serving.join(',') !== want.join(',')) result.problems.push(`targets ${serving.join(', ')}, expected ${want.join(', ')}`);
  await canaryBack(api, result, 'at the end');
}
