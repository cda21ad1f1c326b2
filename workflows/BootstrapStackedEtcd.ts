/**
 * BootstrapStackedEtcd: the seed's "single cloud with stacked etcd" procedure as a durable workflow.
 * An internal NLB fronts the API; the primary control plane is initialised with kubeadm; further
 * control planes join one at a time; spares join etcd but stay out of the load balancer; workers join;
 * everything is verified. Every step asks the world first, so a resumed or repeated run acts only
 * where something is missing.
 */
import { defineQuery, log, patched, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { JoinCredentials, KubeadmInitResult, LoadBalancerInfo, TargetRef } from '../activities/types';
import { BOOTSTRAP_CHECKS, type BootstrapFacts } from '../common/bootstrapChecks';
import { type CheckResult, checkLines, fatalFailures, runChecks } from '../common/checks';
import { ErrorType, failureInfo, failureType, kubehaFailure } from '../common/errors';
import { failuresTolerated, haReport, type HaReport, quorumOf } from '../common/haReport';
import { BOOTSTRAP_STEPS, bootstrapStackedEtcdInputSchema, DEFAULT_CNI_URL, type BootstrapStackedEtcdConfig } from '../common/inputs/bootstrapStackedEtcd';
import type { HostSpec } from '../common/inputs/shared';
import { PROGRESS_QUERY, type Progress } from '../common/progress';
import { SEARCH_ATTRIBUTES } from '../common/searchAttributes';
import { parseInput } from '../common/validation';
import { aws, hosts, kube, waits } from './engine/activities';
import { withClusterLock } from './engine/clusterLock';
import { schedules } from './engine/rotationActivities';
import { ProgressTracker } from './engine/progress';
import { mapBounded, runStepTable, type Step } from './engine/steps';

/** Query: the run's conditions per step and per host. */
export const progressQuery = defineQuery<Progress>(PROGRESS_QUERY);

/** What BootstrapStackedEtcd returns: the cluster as verified. No secrets, only their names. */
export interface BootstrapResult {
  clusterName: string;
  controlPlaneEndpoint: string;
  loadBalancerArn: string;
  targetGroupArn: string;
  /** Control-plane nodes in the load balancer (the primary first). */
  controlPlanes: string[];
  /** Spare control-plane nodes: etcd voters kept out of the load balancer. */
  spares: string[];
  workers: string[];
  /** etcd voting members, their quorum, and how many losses they tolerate. */
  etcd: { members: number; quorum: number; toleratesFailures: number };
  /** Name of the admin kubeconfig in the worker's secret store. */
  kubeconfigSecret?: string;
  /** The certificate-key rotation schedule, when the input asked for one. */
  rotationSchedule?: { scheduleId: string; created: boolean } | { error: string };
  /** What losing each zone does to this topology (`kubeha report`). */
  haReport: HaReport;
  dryRun: boolean;
}

/** Refresh the uploaded certificates when they expire within this margin (a join takes minutes). */
const CERTIFICATE_KEY_MARGIN_MS = 20 * 60 * 1000;
/** Refresh the bootstrap token when it expires within this margin. */
const TOKEN_MARGIN_MS = 60 * 60 * 1000;
/** How often a join may meet expired credentials and refresh them before the step fails. */
const MAX_CREDENTIAL_REFRESHES = 3;

/** What the steps share while the run goes on; rebuilt identically on replay. */
interface BootstrapContext {
  config: BootstrapStackedEtcdConfig;
  tracker: ProgressTracker;
  primary: HostSpec;
  /** Control planes after the primary, in input order. */
  secondaries: HostSpec[];
  spares: HostSpec[];
  workers: HostSpec[];
  lb?: LoadBalancerInfo;
  init?: KubeadmInitResult;
  join?: JoinCredentials;
}

/** Starts, or resumes, the bootstrap of one cluster. Takes ONE object (the Web UI form's one value). */
export async function BootstrapStackedEtcd(rawInput: unknown): Promise<BootstrapResult> {
  const tracker = new ProgressTracker('BootstrapStackedEtcd', subjectOf(rawInput), BOOTSTRAP_STEPS);
  setHandler(progressQuery, () => tracker.progress);
  // Validation comes before any activity: a bad input fails the run here, with every bad field named.
  const config = parseInput('BootstrapStackedEtcd', bootstrapStackedEtcdInputSchema, underPinningRule(rawInput));
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: config.clusterName }]);

  const controlPlanes = config.hosts.filter((h) => h.role === 'control-plane');
  const context: BootstrapContext = {
    config,
    tracker,
    primary: controlPlanes[0],
    secondaries: controlPlanes.slice(1),
    spares: config.hosts.filter((h) => h.role === 'spare-control-plane'),
    workers: config.hosts.filter((h) => h.role === 'worker'),
  };
  tracker.addFactSilently('high availability', haSummary(reportOf(config)));
  tracker.setFact('primary', context.primary.name);
  if (context.spares.length) tracker.setFact('spares (kept out of the load balancer)', context.spares.map((h) => h.name).join(', '));

  try {
    await runStepTable(BOOTSTRAP_STEP_TABLE, context, tracker, config, {
      onFailure: config.onFailure,
      operatorTimeout: `${config.operatorTimeoutMinutes} minutes`,
    });
  } catch (err) {
    tracker.setPhase('failed');
    throw err;
  }
  const result = resultOf(context);
  if (config.rotationSchedule && !config.dryRun) result.rotationSchedule = await ensureRotationSchedule(context);
  tracker.setPhase('succeeded');
  return result;
}

/**
 * The input as the run checks it. Join credentials go only to pinned hosts unless the input opts in
 * (`joinCredentialsToUnpinnedHosts`); runs started before that rule (no patch marker in their history)
 * keep the rule they started under and replay as if they had opted in, instead of failing validation.
 */
function underPinningRule(rawInput: unknown): unknown {
  if (patched('kubeha-pinned-join-credentials')) return rawInput;
  if (!rawInput || typeof rawInput !== 'object' || Array.isArray(rawInput)) return rawInput;
  return { ...rawInput, joinCredentialsToUnpinnedHosts: true };
}

/**
 * Creates the rotation schedule the input asked for. The cluster is up by now: a failure here is
 * reported in the result and progress, not a failed bootstrap (`kubeha schedule rotate` can redo it).
 */
async function ensureRotationSchedule(ctx: BootstrapContext): Promise<BootstrapResult['rotationSchedule']> {
  const { config } = ctx;
  try {
    const info = await schedules.ensureRotationSchedule.executeWithOptions({ summary: `rotation schedule of ${config.clusterName}` }, [
      {
        clusterName: config.clusterName,
        schedule: config.rotationSchedule ?? {},
        workflowInput: { clusterName: config.clusterName, hosts: config.hosts.filter((h) => h.role !== 'worker'), kubeconfigSecret: ctx.init?.kubeconfigSecret },
      },
    ]);
    ctx.tracker.setFact('rotation schedule', `${info.scheduleId} (${info.created ? 'created' : 'updated'}, every ${config.rotationSchedule?.every})`);
    return info;
  } catch (err) {
    const message = (err as Error).message;
    log.warn('rotation schedule not created', { message });
    ctx.tracker.setFact('rotation schedule', `not created: ${message}`);
    return { error: message };
  }
}

/**
 * Runs a section that uploads a certificate key or joins a control plane while holding the cluster's
 * lock, so a scheduled key rotation never swaps the key under a running join. Runs recorded before
 * the lock existed replay without it.
 */
function keySensitive<T>(ctx: BootstrapContext, purpose: string, fn: () => Promise<T>, step?: string, host?: string): Promise<T> {
  if (ctx.config.dryRun || !patched('kubeha-cluster-lock')) return fn();
  return withClusterLock(ctx.config.clusterName, purpose, fn, {
    // The lock is granted at once when free; the condition then lasts one signal round trip.
    onWaiting: (lockId) =>
      step && host && ctx.tracker.setHost(step, host, 'waiting', 'WaitingForClusterLock', `waiting for the cluster lock (a key upload or another control-plane join may hold it: query lockState of ${lockId})`),
  });
}

function subjectOf(raw: unknown): string {
  const name = (raw as { clusterName?: unknown } | null)?.clusterName;
  return typeof name === 'string' ? `cluster ${name.slice(0, 63)}` : 'cluster (unnamed)';
}

function etcdQuorum(voters: number): BootstrapResult['etcd'] {
  return { members: voters, quorum: quorumOf(voters), toleratesFailures: failuresTolerated(voters) };
}

/** The HA report of the run's topology (pure: the same on every replay). */
function reportOf(config: BootstrapStackedEtcdConfig): HaReport {
  return haReport({ clusterName: config.clusterName, hosts: config.hosts, healthCheck: config.loadBalancer.targetGroup.healthCheck });
}

/** The report in one line for the Web UI's current details: the model, and the zones whose loss stops the API. */
export function haSummary(report: HaReport): string {
  const down = report.zones.filter((z) => !z.apiServed && z.votersLost > 0).map((z) => `${z.zone} (${z.recovery === 'register-spare' ? 'register a spare' : z.recovery === 'survivor' ? `restore from ${z.restoreFrom}` : 'restore a snapshot'})`);
  return `model ${report.model.level} of 4 (${report.model.name}); ${down.length ? `losing ${down.join(', ')} stops the API` : 'losing any one zone keeps the API'}${report.warnings.length ? `; ${report.warnings.length} warning(s): kubeha report` : ''}`;
}

function resultOf(ctx: BootstrapContext): BootstrapResult {
  return {
    clusterName: ctx.config.clusterName,
    controlPlaneEndpoint: ctx.lb ? `${ctx.lb.dnsName}:6443` : '',
    loadBalancerArn: ctx.lb?.loadBalancerArn ?? '',
    targetGroupArn: ctx.lb?.targetGroupArn ?? '',
    controlPlanes: [ctx.primary, ...ctx.secondaries].map((h) => h.name),
    spares: ctx.spares.map((h) => h.name),
    workers: ctx.workers.map((h) => h.name),
    etcd: etcdQuorum(1 + ctx.secondaries.length + ctx.spares.length),
    kubeconfigSecret: ctx.init?.kubeconfigSecret,
    haReport: reportOf(ctx.config),
    dryRun: ctx.config.dryRun,
  };
}

// ------------------------------------------------------------------ shared pieces of the steps

/**
 * Whether steps own their work: only ensure-load-balancer creates the load balancer and only
 * init-primary runs kubeadm init; other steps find them (find-only activities) and fail when they are
 * missing. Runs recorded before called the ensure/init activities from any step and replay so.
 */
function stepsOwnTheirWork(ctx: BootstrapContext): boolean {
  return !ctx.config.dryRun && patched('kubeha-steps-own-their-work');
}

/** A step needs what an earlier step makes, and it is not there: the run says which step to run. */
function missing(what: string, owner: string): Error {
  return kubehaFailure({
    type: ErrorType.Conflict,
    message: `${what} does not exist: run ${owner} first`,
    retryable: false,
    hint: `run the bootstrap with the ${owner} step (leave it out of skipSteps, or add it to onlySteps); this step only reads and creates nothing`,
  });
}

function loadBalancerInput(ctx: BootstrapContext) {
  return { clusterName: ctx.config.clusterName, aws: ctx.config.aws, loadBalancer: ctx.config.loadBalancer, dryRun: ctx.config.dryRun };
}

/** ensure-load-balancer's own work: find or create the load balancer. */
async function ensureLoadBalancer(ctx: BootstrapContext): Promise<LoadBalancerInfo> {
  ctx.lb = await aws.ensureLoadBalancer.executeWithOptions({ summary: `find or create load balancer ${ctx.config.loadBalancer.name}` }, [loadBalancerInput(ctx)]);
  ctx.tracker.setFact('load balancer', ctx.lb.dnsName);
  return ctx.lb;
}

/** The load balancer, for steps that only use it: found, never created. */
async function loadBalancer(ctx: BootstrapContext): Promise<LoadBalancerInfo> {
  if (ctx.lb) return ctx.lb;
  if (!stepsOwnTheirWork(ctx)) return ensureLoadBalancer(ctx);
  const found = await aws.findLoadBalancer.executeWithOptions({ summary: `find load balancer ${ctx.config.loadBalancer.name}` }, [loadBalancerInput(ctx)]);
  if (!found) throw missing(`load balancer ${ctx.config.loadBalancer.name}`, 'ensure-load-balancer');
  ctx.lb = found;
  ctx.tracker.setFact('load balancer', found.dnsName);
  return found;
}

function endpointOf(lb: LoadBalancerInfo): string {
  return `${lb.dnsName}:6443`;
}

function targetOf(ctx: BootstrapContext, lb: LoadBalancerInfo, host: HostSpec): TargetRef {
  return { aws: ctx.config.aws, targetGroupArn: lb.targetGroupArn, ip: host.address, port: 6443 };
}

/**
 * init-primary's own work: kubeadm init (idempotent: it asks the cluster first). It uploads the
 * certificates, so it holds the cluster lock like every other upload.
 */
async function initPrimary(ctx: BootstrapContext): Promise<KubeadmInitResult> {
  const lb = await loadBalancer(ctx);
  const call = () =>
    hosts.kubeadmInit.executeWithOptions({ summary: `kubeadm init on ${ctx.primary.name}` }, [
      {
        clusterName: ctx.config.clusterName,
        host: ctx.primary,
        controlPlaneEndpoint: endpointOf(lb),
        kubernetesVersion: ctx.config.kubernetesVersion,
        podCidr: ctx.config.podCidr,
        serviceCidr: ctx.config.serviceCidr,
      },
    ]);
  ctx.init = stepsOwnTheirWork(ctx) ? await keySensitive(ctx, `kubeadm init on ${ctx.primary.name} (uploads certificates)`, call) : await call();
  ctx.join = ctx.init.join;
  return ctx.init;
}

/** The initialised cluster, for steps that only use it: found, never initialised. */
async function initialized(ctx: BootstrapContext): Promise<KubeadmInitResult> {
  if (ctx.init) return ctx.init;
  if (!stepsOwnTheirWork(ctx)) return initPrimary(ctx);
  const found = await hosts.findInitialized.executeWithOptions({ summary: `find the cluster on ${ctx.primary.name}` }, [{ clusterName: ctx.config.clusterName, host: ctx.primary }]);
  if (!found) throw missing(`cluster ${ctx.config.clusterName} (kubeadm init on ${ctx.primary.name})`, 'init-primary');
  ctx.init = found;
  ctx.join = found.join;
  return found;
}

/** Join credentials with enough life left for a join; refreshed on the primary when not. */
async function freshCredentials(ctx: BootstrapContext, needCertificateKey: boolean): Promise<JoinCredentials> {
  await initialized(ctx);
  const current = ctx.join as JoinCredentials;
  const now = Date.now();
  const refreshToken = Date.parse(current.tokenExpiresAt) - now < TOKEN_MARGIN_MS;
  const refreshCertificateKey = needCertificateKey && Date.parse(current.certificateKeyExpiresAt) - now < CERTIFICATE_KEY_MARGIN_MS;
  if (refreshToken || refreshCertificateKey) ctx.join = await refresh(ctx, current, refreshToken, refreshCertificateKey);
  return ctx.join as JoinCredentials;
}

async function refresh(ctx: BootstrapContext, current: JoinCredentials, refreshToken: boolean, refreshCertificateKey: boolean): Promise<JoinCredentials> {
  const what = [refreshToken && 'token', refreshCertificateKey && 'certificate key'].filter(Boolean).join(' and ');
  const call = () =>
    hosts.refreshJoinCredentials.executeWithOptions({ summary: `refresh ${what} on ${ctx.primary.name}` }, [
      { clusterName: ctx.config.clusterName, host: ctx.primary, current, refreshToken, refreshCertificateKey },
    ]);
  // A new certificate key is an upload: it must not run beside a join or a rotation.
  return refreshCertificateKey ? keySensitive(ctx, `upload certificates (refresh ${what})`, call) : call();
}

/**
 * Joins one host, refreshing the token or the uploaded certificates when kubeadm reports them expired
 * or rejected, instead of failing the step.
 */
async function joinHost(ctx: BootstrapContext, step: string, host: HostSpec, controlPlane: boolean): Promise<void> {
  const lb = await loadBalancer(ctx);
  const init = await initialized(ctx);
  // A control-plane join reads the certificate key from start to end: hold the cluster lock throughout.
  if (controlPlane) return keySensitive(ctx, `join ${host.name} as control plane`, () => joinWithRefresh(ctx, step, host, controlPlane, lb, init), step, host.name);
  return joinWithRefresh(ctx, step, host, controlPlane, lb, init);
}

async function joinWithRefresh(ctx: BootstrapContext, step: string, host: HostSpec, controlPlane: boolean, lb: LoadBalancerInfo, init: KubeadmInitResult): Promise<void> {
  for (let refreshes = 0; ; refreshes++) {
    const join = await freshCredentials(ctx, controlPlane);
    ctx.tracker.setHost(step, host.name, 'running', 'Joining', `kubeadm join${controlPlane ? ' --control-plane' : ''}`);
    try {
      const result = await hosts.kubeadmJoin.executeWithOptions({ summary: `join ${host.name}${controlPlane ? ' (control plane)' : ''}` }, [
        { clusterName: ctx.config.clusterName, host, controlPlane, controlPlaneEndpoint: endpointOf(lb), join, kubeconfigSecret: init.kubeconfigSecret, repairVia: ctx.primary },
      ]);
      const how = result.alreadyJoined ? 'already in the cluster' : result.repaired ? 'joined after repairing a half-done join' : 'joined';
      ctx.tracker.setHost(step, host.name, 'running', result.alreadyJoined ? 'AlreadyJoined' : 'Joined', how);
      return;
    } catch (err) {
      if (failureType(err) !== ErrorType.CredentialExpired || refreshes >= MAX_CREDENTIAL_REFRESHES) throw err;
      const which = failureInfo(err)?.refresh;
      ctx.tracker.setHost(step, host.name, 'waiting', 'RefreshingCredentials', `kubeadm rejected the ${which ?? 'credentials'}; refreshing`);
      ctx.join = await refresh(ctx, ctx.join as JoinCredentials, which !== 'certificate-key', which !== 'token');
    }
  }
}

async function waitHealthy(ctx: BootstrapContext, step: string, host: HostSpec): Promise<void> {
  const lb = await loadBalancer(ctx);
  ctx.tracker.setHost(step, host.name, 'waiting', 'WaitingTargetHealthy', `target ${host.address}:6443 not healthy yet`);
  const { state, waitedSeconds } = await waits.waitTargetHealthy.executeWithOptions({ summary: `wait until ${host.name} is healthy in the target group` }, [
    { ...targetOf(ctx, lb, host), deadlineSeconds: ctx.config.loadBalancer.targetGroup.healthyDeadlineSeconds },
  ]);
  ctx.tracker.setHost(step, host.name, 'running', 'TargetHealthy', `target ${state} after ${waitedSeconds} s`);
}

async function waitNodeReady(ctx: BootstrapContext, step: string, host: HostSpec): Promise<void> {
  const init = await initialized(ctx);
  ctx.tracker.setHost(step, host.name, 'waiting', 'WaitingNodeReady', 'Node not Ready yet');
  await waits.waitNodeReady.executeWithOptions({ summary: `wait until node ${host.name} is Ready` }, [
    { kubeconfigSecret: init.kubeconfigSecret, nodeName: host.name, timeoutSeconds: 600 },
  ]);
}

/** Verifies the host is a started, healthy, voting etcd member; waits a little for a learner's promotion. */
async function waitEtcdMember(ctx: BootstrapContext, step: string, host: HostSpec): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const members = await hosts.etcdMembers.executeWithOptions({ summary: `etcd members via ${ctx.primary.name}` }, [{ host: ctx.primary }]);
    const member = members.find((m) => m.name === host.name);
    const unhealthy = members.filter((m) => !m.healthy).length;
    const problem = !member
      ? 'is not an etcd member'
      : member.isLearner
        ? 'is still an etcd learner (not yet promoted)'
        : !member.healthy
          ? 'is an unhealthy etcd member'
          : unhealthy > 0
            ? `joined, but etcd has ${unhealthy} unhealthy member(s)`
            : undefined;
    if (!problem) return;
    if (attempt >= 12) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        message: `${host.name} ${problem}`,
        retryable: false,
        hint: `look at etcd on ${host.name} (journal of the etcd static pod) and at the member list; a stale member needs "etcdctl member remove" and "kubeadm reset -f" (retry the step: kubeha repairs it)`,
        details: { host: host.name },
      });
    }
    ctx.tracker.setHost(step, host.name, 'waiting', 'WaitingEtcdMember', `${host.name} ${problem}`);
    await sleep('5 seconds');
  }
}

/** Makes sure a spare is NOT in the target group: spares are voters held back for failover. */
async function assertNotRegistered(ctx: BootstrapContext, host: HostSpec): Promise<void> {
  const lb = await loadBalancer(ctx);
  const health = await aws.describeTargetHealth({ aws: ctx.config.aws, targetGroupArn: lb.targetGroupArn });
  if (health.some((t) => t.ip === host.address)) {
    throw kubehaFailure({
      type: ErrorType.Conflict,
      message: `spare ${host.name} (${host.address}) is registered in the target group`,
      retryable: false,
      hint: 'a spare is kept out of the load balancer; deregister it by hand if it was added by mistake, or give it role "control-plane"',
      details: { host: host.name },
    });
  }
}

// ------------------------------------------------------------------ the step table

const describeDryRun = (what: string) => (ctx: BootstrapContext) => (ctx.config.dryRun ? `dry run: would ${what}` : undefined);

/** The steps of BootstrapStackedEtcd, in order (names in BOOTSTRAP_STEPS). */
export const BOOTSTRAP_STEP_TABLE: readonly Step<BootstrapContext>[] = [
  {
    name: 'ensure-load-balancer',
    description: 'Create or adopt the internal NLB, its TCP 6443 ip target group and listener; record the DNS name.',
    async run(ctx) {
      const lb = await ensureLoadBalancer(ctx);
      const created = Object.entries(lb.created).filter(([, v]) => v).map(([k]) => k);
      ctx.tracker.setStep('ensure-load-balancer', 'running', created.length ? 'Created' : 'AlreadyPresent', created.length ? `created ${created.join(', ')}` : `found ${lb.dnsName}`);
    },
  },
  {
    name: 'prepare-hosts',
    description: 'Kernel modules and sysctls, containerd with SystemdCgroup, kubelet/kubeadm/kubectl pinned and held; all hosts in parallel.',
    async run(ctx) {
      const step = 'prepare-hosts';
      ctx.config.hosts.forEach((h) => ctx.tracker.setHost(step, h.name, 'pending'));
      await mapBounded(ctx.config.hosts, ctx.config.parallelism, async (host) => {
        ctx.tracker.setHost(step, host.name, 'running', 'Preparing');
        try {
          const result = await hosts.prepareHost.executeWithOptions({ summary: `prepare ${host.name}` }, [
            { host, kubernetesVersion: ctx.config.kubernetesVersion, dryRun: ctx.config.dryRun },
          ]);
          const message = result.changed.length ? `${ctx.config.dryRun ? 'would change' : 'changed'}: ${result.changed.join(', ')}` : 'already prepared';
          ctx.tracker.setHost(step, host.name, 'done', result.changed.length ? 'Prepared' : 'AlreadyPrepared', message);
        } catch (err) {
          ctx.tracker.setHost(step, host.name, 'failed', failureType(err) ?? 'Error', (err as Error).message);
          throw err;
        }
      });
    },
  },
  {
    name: 'init-primary',
    description: 'Register the primary in the target group first, then kubeadm init with the NLB as control-plane endpoint and uploaded certificates.',
    skipReason: describeDryRun('register the primary and run kubeadm init on it'),
    async run(ctx) {
      const lb = await loadBalancer(ctx);
      const step = 'init-primary';
      // kubeadm >= 1.34.2 checks the endpoint during init (kubeadm issue 3294): the target goes in first.
      const { registered } = await aws.registerTarget.executeWithOptions({ summary: `register ${ctx.primary.name} in the target group` }, [targetOf(ctx, lb, ctx.primary)]);
      ctx.tracker.setHost(step, ctx.primary.name, 'running', registered ? 'TargetRegistered' : 'TargetAlreadyRegistered');
      const init = await initPrimary(ctx);
      ctx.tracker.setHost(step, ctx.primary.name, 'done', init.alreadyInitialized ? 'AlreadyInitialized' : 'Initialized', `control-plane endpoint ${endpointOf(lb)}`);
    },
  },
  {
    name: 'wait-target-healthy',
    description: 'Poll DescribeTargetHealth until the primary is healthy: "initial" keeps waiting, "unhealthy" past the deadline fails with a hint.',
    skipReason: describeDryRun('wait for the primary to be healthy in the target group'),
    async run(ctx) {
      await waitHealthy(ctx, 'wait-target-healthy', ctx.primary);
      ctx.tracker.setHost('wait-target-healthy', ctx.primary.name, 'done', 'TargetHealthy');
    },
  },
  {
    name: 'install-cni',
    description: 'Server-side apply of the CNI manifest (default Calico) through the API, then wait for its rollout.',
    skipReason: describeDryRun('apply the CNI manifest and wait for its rollout'),
    async run(ctx) {
      const init = await initialized(ctx);
      const cni = ctx.config.cni;
      const source = cni.file ? { file: cni.file } : { url: cni.url ?? DEFAULT_CNI_URL };
      const applied = await kube.applyManifest.executeWithOptions({ summary: 'apply the CNI manifest' }, [{ kubeconfigSecret: init.kubeconfigSecret, source }]);
      ctx.tracker.setStep('install-cni', 'waiting', 'WaitingRollout', `${applied.applied} objects applied; waiting for ${applied.workloads.map((w) => `${w.kind}/${w.name}`).join(', ') || 'nothing'}`);
      if (applied.workloads.length) {
        await waits.waitRollout.executeWithOptions({ summary: 'wait for the CNI rollout' }, [
          { kubeconfigSecret: init.kubeconfigSecret, workloads: applied.workloads, timeoutSeconds: cni.rolloutTimeoutSeconds },
        ]);
      }
      ctx.tracker.setStep('install-cni', 'running', 'RolledOut', `${applied.applied} objects applied and rolled out`);
    },
  },
  {
    name: 'join-control-plane',
    description: 'Strictly one at a time: register the target, kubeadm join --control-plane, wait target healthy, Node Ready and etcd member healthy.',
    skipReason: (ctx) => (ctx.secondaries.length === 0 ? 'no further control-plane hosts' : describeDryRun(`join ${ctx.secondaries.map((h) => h.name).join(', ')} one at a time`)(ctx)),
    async run(ctx) {
      const step = 'join-control-plane';
      const lb = await loadBalancer(ctx);
      ctx.secondaries.forEach((h) => ctx.tracker.setHost(step, h.name, 'pending', 'Queued', 'control-plane joins run one at a time (each adds an etcd member)'));
      // Serial on purpose: every control-plane join adds an etcd member, and etcd takes one learner at a time.
      for (const host of ctx.secondaries) {
        await aws.registerTarget.executeWithOptions({ summary: `register ${host.name} in the target group` }, [targetOf(ctx, lb, host)]);
        await joinHost(ctx, step, host, true);
        await waitHealthy(ctx, step, host);
        await waitNodeReady(ctx, step, host);
        await waitEtcdMember(ctx, step, host);
        ctx.tracker.setHost(step, host.name, 'done', 'Joined', 'target healthy, Node Ready, etcd member healthy');
      }
    },
  },
  {
    name: 'join-spare',
    description: 'Spare control planes join etcd as voters but are never registered in the target group.',
    skipReason: (ctx) => (ctx.spares.length === 0 ? 'no spare control-plane hosts' : describeDryRun(`join spares ${ctx.spares.map((h) => h.name).join(', ')} without registering them`)(ctx)),
    async run(ctx) {
      const step = 'join-spare';
      for (const host of ctx.spares) {
        await assertNotRegistered(ctx, host);
        await joinHost(ctx, step, host, true);
        await waitNodeReady(ctx, step, host);
        await waitEtcdMember(ctx, step, host);
        ctx.tracker.setHost(step, host.name, 'done', 'JoinedAsSpare', 'etcd voter, not in the load balancer');
      }
      const quorum = etcdQuorum(1 + ctx.secondaries.length + ctx.spares.length);
      ctx.tracker.setFact('etcd quorum', `${quorum.quorum} of ${quorum.members} voters (spares included); tolerates ${quorum.toleratesFailures} loss(es)`);
    },
  },
  {
    name: 'join-workers',
    description: 'Workers join in parallel (bounded), with token refresh.',
    skipReason: (ctx) => (ctx.workers.length === 0 ? 'no worker hosts' : describeDryRun(`join workers ${ctx.workers.map((h) => h.name).join(', ')}`)(ctx)),
    async run(ctx) {
      const step = 'join-workers';
      // Refresh once up front so parallel joins do not each race to refresh the token.
      await freshCredentials(ctx, false);
      ctx.workers.forEach((h) => ctx.tracker.setHost(step, h.name, 'pending'));
      await mapBounded(ctx.workers, ctx.config.parallelism, async (host) => {
        await joinHost(ctx, step, host, false);
        await waitNodeReady(ctx, step, host);
        ctx.tracker.setHost(step, host.name, 'done', 'Joined', 'Node Ready');
      });
    },
  },
  {
    name: 'verify',
    description: 'Every node Ready; etcd members == control planes and spares, all healthy voters; healthy targets == registered control planes; the API answers through the load balancer.',
    skipReason: describeDryRun('verify nodes, etcd, targets and the API'),
    async run(ctx) {
      const failed = fatalFailures(await verifyCluster(ctx));
      if (failed.length) {
        throw kubehaFailure({
          type: ErrorType.VerificationFailed,
          message: failed.flatMap((r) => r.problems).join('; '),
          retryable: false,
          hint: `${failed.map((r) => `${r.description}: ${r.hint}`).join(' | ')}; fix it (or let a transient one settle) and run verify again`,
          details: { checks: checkLines(failed) },
        });
      }
      ctx.tracker.setStep('verify', 'running', 'Verified', 'nodes Ready, etcd healthy, targets healthy, API answers through the load balancer');
    },
  },
];

/** Reads the facts once (Nodes, etcd members, targets, the API) and runs the verification checks on them. */
async function verifyCluster(ctx: BootstrapContext): Promise<CheckResult[]> {
  const lb = await loadBalancer(ctx);
  const init = await initialized(ctx);
  const nodes = await kube.listNodes({ kubeconfigSecret: init.kubeconfigSecret });
  const members = await hosts.etcdMembers({ host: ctx.primary });
  const targets = await aws.describeTargetHealth({ aws: ctx.config.aws, targetGroupArn: lb.targetGroupArn });
  const api = await kube.apiReady({ kubeconfigSecret: init.kubeconfigSecret });
  ctx.tracker.setFact('verified', `${nodes.length} nodes, ${members.length} etcd members, ${targets.filter((t) => t.state === 'healthy').length} healthy targets`);
  const facts: BootstrapFacts = { hosts: ctx.config.hosts, servingControlPlanes: [ctx.primary, ...ctx.secondaries], spares: ctx.spares, nodes, members, targets, api };
  return runChecks(BOOTSTRAP_CHECKS, facts);
}
