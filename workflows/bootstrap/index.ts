/**
 * BootstrapStackedEtcd: the seed's "single cloud with stacked etcd" procedure as a durable workflow.
 * An internal NLB fronts the API; the primary control plane is initialised with kubeadm; further
 * control planes join one at a time; spares join etcd but stay out of the load balancer; workers join;
 * everything is verified. Every step asks the world first, so a resumed or repeated run acts only
 * where something is missing.
 */
import { setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { BOOTSTRAP_STEPS, bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { parseInput } from '../../common/validation';
import { progressQuery, ProgressTracker } from '../engine/progress';
import { runStepTable, type Step } from '../engine/steps';
import { clusterSubject } from '../engine/subject';
import { type BootstrapContext, bootstrapContext, underPinningRule } from './data';
import { installCni } from './installCni';
import { joinControlPlanes, joinSpares, joinWorkers } from './joinSteps';
import { ensureLoadBalancerStep } from './loadBalancer';
import { prepareHosts } from './prepareHosts';
import { initPrimaryStep, waitPrimaryHealthy } from './primary';
import { type BootstrapResult, ensureRotationSchedule, haSummary, reportOf, resultOf } from './result';
import { verify } from './verify';

export type { BootstrapResult } from './result';

const describeDryRun = (what: string) => (ctx: BootstrapContext) => (ctx.config.dryRun ? `dry run: would ${what}` : undefined);

/** The steps of BootstrapStackedEtcd, in order (names in BOOTSTRAP_STEPS). */
export const BOOTSTRAP_STEP_TABLE: readonly Step<BootstrapContext>[] = [
  {
    name: 'ensure-load-balancer',
    description: 'Create or adopt the internal NLB, its TCP 6443 ip target group and listener; record the DNS name.',
    run: ensureLoadBalancerStep,
  },
  {
    name: 'prepare-hosts',
    description: 'Kernel modules and sysctls, containerd with SystemdCgroup, kubelet/kubeadm/kubectl pinned and held; all hosts in parallel.',
    run: prepareHosts,
  },
  {
    name: 'init-primary',
    description: 'Register the primary in the target group first, then kubeadm init with the NLB as control-plane endpoint and uploaded certificates.',
    skipReason: describeDryRun('register the primary and run kubeadm init on it'),
    run: initPrimaryStep,
  },
  {
    name: 'wait-target-healthy',
    description: 'Poll DescribeTargetHealth until the primary is healthy: "initial" keeps waiting, "unhealthy" past the deadline fails with a hint.',
    skipReason: describeDryRun('wait for the primary to be healthy in the target group'),
    run: waitPrimaryHealthy,
  },
  {
    name: 'install-cni',
    description: 'Server-side apply of the CNI manifest (default Calico) through the API, then wait for its rollout.',
    skipReason: describeDryRun('apply the CNI manifest and wait for its rollout'),
    run: installCni,
  },
  {
    name: 'join-control-plane',
    description: 'Strictly one at a time: register the target, kubeadm join --control-plane, wait target healthy, Node Ready and etcd member healthy.',
    skipReason: (ctx) =>
      ctx.secondaries.length === 0
        ? 'no further control-plane hosts'
        : describeDryRun(`join ${ctx.secondaries.map((h) => h.name).join(', ')} one at a time`)(ctx),
    run: joinControlPlanes,
  },
  {
    name: 'join-spare',
    description: 'Spare control planes join etcd as voters but are never registered in the target group.',
    skipReason: (ctx) =>
      ctx.spares.length === 0
        ? 'no spare control-plane hosts'
        : describeDryRun(`join spares ${ctx.spares.map((h) => h.name).join(', ')} without registering them`)(ctx),
    run: joinSpares,
  },
  {
    name: 'join-workers',
    description: 'Workers join in parallel (bounded), with token refresh.',
    skipReason: (ctx) => (ctx.workers.length === 0 ? 'no worker hosts' : describeDryRun(`join workers ${ctx.workers.map((h) => h.name).join(', ')}`)(ctx)),
    run: joinWorkers,
  },
  {
    name: 'verify',
    description:
      'Every node Ready; etcd members == control planes and spares, all healthy voters; healthy targets == registered control planes; the API answers through the load balancer.',
    skipReason: describeDryRun('verify nodes, etcd, targets and the API'),
    run: verify,
  },
];

/** Starts, or resumes, the bootstrap of one cluster. Takes ONE object (the Web UI form's one value). */
export async function BootstrapStackedEtcd(rawInput: unknown): Promise<BootstrapResult> {
  const tracker = new ProgressTracker('BootstrapStackedEtcd', clusterSubject(rawInput), BOOTSTRAP_STEPS);
  setHandler(progressQuery, () => tracker.progress);
  // Validation comes before any activity: a bad input fails the run here, with every bad field named.
  const config = parseInput('BootstrapStackedEtcd', bootstrapStackedEtcdInputSchema, underPinningRule(rawInput));
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: config.clusterName }]);

  const context = bootstrapContext(config, tracker);
  tracker.addFactSilently('high availability', haSummary(reportOf(config)));
  tracker.setFact('primary', context.primary.name);
  if (context.spares.length) tracker.setFact('spares (kept out of the load balancer)', context.spares.map((h) => h.name).join(', '));

  await runStepTable(BOOTSTRAP_STEP_TABLE, context, tracker, config);
  const result = resultOf(context);
  if (config.rotationSchedule && !config.dryRun) result.rotationSchedule = await ensureRotationSchedule(context);
  tracker.setPhase('succeeded');
  return result;
}
