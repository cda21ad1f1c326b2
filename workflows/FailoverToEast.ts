/**
 * FailoverToEast: when west fails, move its services' traffic to east through the mesh's split and,
 * if west's API lost its control planes, bring the spare control plane into the load balancer; hold
 * while the alert fires; move back once it resolved and west stayed healthy for a hysteresis window.
 *
 * Started (or signalled, when already running) by kubeha's Alertmanager webhook with signal-with-start,
 * so one pair has one failover at a time and repeated or duplicate deliveries become `alert` signals.
 * Every decision and its reason lands in the `status` and `progress` queries, the Web UI's current
 * details and the search attributes; the history keeps the audit trail.
 */
import {
  condition,
  ContinueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { HostActivities } from '../activities/types';
import type { HostSpec } from '../common/inputs/shared';
import type { ServiceReadiness, SplitRef } from '../activities/failover/types';
import { ErrorType, failureType, kubehaFailure } from '../common/errors';
import {
  ALERT_SIGNAL,
  APPROVAL_UPDATE,
  APPROVE_SIGNAL,
  FAILBACK_SIGNAL,
  FAILOVER_STEPS,
  failbackSteps,
  failoverToEastInputSchema,
  REJECT_SIGNAL,
  resolveService,
  STATUS_QUERY,
  type AlertNotification,
  type ApprovalDecision,
  type ApprovalUpdate,
  type FailoverStatus,
  type FailoverToEastConfig,
  type ResolvedService,
} from '../common/inputs/failoverToEast';
import { PROGRESS_QUERY, type Progress } from '../common/progress';
import { SEARCH_ATTRIBUTES } from '../common/searchAttributes';
import { parseInput } from '../common/validation';
import { aws, waits } from './engine/activities';
import { failover, probes } from './engine/failoverActivities';
import { ProgressTracker } from './engine/progress';
import { rootMessage, runStepTable, type Step } from './engine/steps';
import { continueIfFull, historyFull, restoreCarry, stepsBefore, type FailoverCarry, type ResumableStep } from './failover/continueAsNew';

/** Query: the run's conditions per step. */
export const progressQuery = defineQuery<Progress>(PROGRESS_QUERY);
/** Query: where the failover stands, with every decision. */
export const statusQuery = defineQuery<FailoverStatus>(STATUS_QUERY);
/** Signal: an Alertmanager notification relayed by the webhook. */
export const alertSignal = defineSignal<[AlertNotification]>(ALERT_SIGNAL);
/** Signal: approve the failover. */
export const approveSignal = defineSignal<[ApprovalDecision?]>(APPROVE_SIGNAL);
/** Signal: reject the failover. */
export const rejectSignal = defineSignal<[ApprovalDecision?]>(REJECT_SIGNAL);
/** Update: approve or reject, answered with the decision that stands. */
export const approvalUpdate = defineUpdate<{ decision: 'approve' | 'reject'; by?: string }, [ApprovalUpdate]>(APPROVAL_UPDATE);
/** Signal: fail back now, without the hysteresis window. */
export const failbackSignal = defineSignal<[ApprovalDecision?]>(FAILBACK_SIGNAL);

/** What FailoverToEast returns. */
export interface FailoverResult {
  /** refused: east could not take the load; rejected: not approved; failed-back: the full cycle ran. */
  outcome: 'refused' | 'rejected' | 'failed-back';
  pair: { west: string; east: string };
  reasons: string[];
  eastPercent: Record<string, number>;
  sparesRegistered: string[];
  notifications: FailoverStatus['notifications'];
  approvedBy?: string;
  /**
   * The incidents this run handled, as `fingerprint|startsAt` of each firing alert: a delivery of one of
   * them after the run closed (Alertmanager's retries) must not start another failover.
   */
  incidents: string[];
}

/** At most this many decisions stay in the queries (the history holds them all). */
const MAX_DECISIONS = 200;
/** At most this many incidents are listed in the result. */
const MAX_INCIDENTS = 500;
/** At most this many alert states are remembered to tell duplicates from news. */
const MAX_SEEN_ALERT_STATES = 2000;

/** The optional search attribute for the failover state, used once common/searchAttributes.ts defines it. */
const FAILOVER_STATE_KEY = (SEARCH_ATTRIBUTES as unknown as { failoverState?: typeof SEARCH_ATTRIBUTES.phase }).failoverState;

/** The run's state, rebuilt identically on replay. */
interface FailoverContext {
  config: FailoverToEastConfig;
  tracker: ProgressTracker;
  services: ResolvedService[];
  status: FailoverStatus;
  /** Outcome that ends the run early (refused, rejected); later steps are skipped with this reason. */
  stop?: { outcome: 'refused' | 'rejected'; reasons: string[] };
  /** True when the precheck could not reach west's API (the control plane may bring it back). */
  westMirrorUnverified: boolean;
  approval?: { decision: 'approve' | 'reject'; by: string; comment?: string };
  approvalPending: boolean;
  /** Bumped on every firing notification, so waits can notice "fired again". */
  firingGeneration: number;
  /** When the last alert of the group resolved; undefined while any fires. */
  resolvedAt?: number;
  /** Whether any alert was ever received (a run started by hand has none). */
  alertsSeen: boolean;
  failbackForced?: { by: string };
  seenAlertStates: Set<string>;
  /** Alerts firing now: fingerprint → startsAt of their current incident. */
  firingSince: Map<string, string>;
  /** Incidents that resolved: fingerprint → startsAt. A late "firing" of one of them does not re-arm the run. */
  resolvedIncidents: Map<string, string>;
  /** Every incident (`fingerprint|startsAt`) that fired during this run, for the result. */
  incidents: Set<string>;
  /** The input as given, for the run that continues this one. */
  input: unknown;
  /** How many runs of this failover came before this one (continue-as-new). */
  runsBefore: number;
  /** Whether this run may continue as new (runs started before that rule keep one run). */
  mayContinue: boolean;
}

/** Starts, or resumes, the failover of one west/east pair. Takes ONE object (the Web UI form's one value). */
export async function FailoverToEast(rawInput: unknown, carry?: FailoverCarry): Promise<FailoverResult> {
  const pair = pairOf(rawInput);
  const tracker = new ProgressTracker('FailoverToEast', `pair ${pair.west} → ${pair.east}`, FAILOVER_STEPS);
  const status: FailoverStatus = {
    pair,
    state: 'checking',
    eastPercent: {},
    firing: [],
    notifications: { total: 0, firing: 0, resolved: 0, duplicates: 0 },
    sparesRegistered: [],
    decisions: [],
  };
  const partial: Partial<FailoverContext> & Pick<FailoverContext, 'tracker' | 'status'> = {
    tracker,
    status,
    approvalPending: false,
    firingGeneration: 0,
    alertsSeen: false,
    westMirrorUnverified: false,
    seenAlertStates: new Set(),
    firingSince: new Map(),
    resolvedIncidents: new Map(),
    incidents: new Set(),
    input: rawInput,
    runsBefore: 0,
    mayContinue: false,
  };
  // Handlers first: the webhook's signal-with-start delivers the alert with the start.
  setHandler(progressQuery, () => tracker.progress);
  setHandler(statusQuery, () => status);
  setHandler(alertSignal, (n) => onAlert(partial as FailoverContext, n));
  setHandler(approveSignal, (d) => void onApproval(partial as FailoverContext, 'approve', d));
  setHandler(rejectSignal, (d) => void onApproval(partial as FailoverContext, 'reject', d));
  setHandler(approvalUpdate, (u) => onApproval(partial as FailoverContext, u.decision, u), {
    validator: (u) => {
      if (u?.decision !== 'approve' && u?.decision !== 'reject') throw new Error('decision must be "approve" or "reject"');
      if (partial.approval) throw new Error(`already decided: ${partial.approval.decision} by ${partial.approval.by}`);
      if (partial.config && !partial.config.approval.required) throw new Error('this failover does not wait for an approval');
    },
  });
  setHandler(failbackSignal, (d) => {
    partial.failbackForced = { by: d?.by ?? 'operator' };
    decide(partial as FailoverContext, 'FailbackForced', `failback forced by ${partial.failbackForced.by}${d?.comment ? `: ${d.comment}` : ''}`);
  });

  // Validation comes before any activity: a bad input fails the run here, with every bad field named.
  const config = parseInput('FailoverToEast', failoverToEastInputSchema, rawInput);
  const ctx = Object.assign(partial, { config, services: config.services.map((s) => resolveService(s, config.east.name)) }) as FailoverContext;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: config.west.name }]);
  // A long incident continues as new while it waits; runs that started before this rule keep one run.
  ctx.mayContinue = patched('kubeha-failover-continue-as-new');
  if (carry) {
    // The run before this one handed over while it waited: resume at the same step with its state.
    restoreCarry(ctx, carry);
    ctx.runsBefore = carry.runsBefore;
    tracker.setFact('runs', `continued as new ${carry.runsBefore} time(s) to keep the history short; resumed at ${carry.resumeAt}`);
  }
  setState(ctx, carry ? ctx.status.state : 'checking');
  tracker.setFact('pair', `${config.west.name} → ${config.east.name}`);
  tracker.setFact('services', ctx.services.map((s) => `${s.namespace}/${s.name} (${s.split.kind})`).join(', '));
  tracker.setFact('steps', `${config.steps.join(' → ')} % to east; back ${failbackSteps(config).join(' → ')} %`);

  try {
    const doneEarlier = carry ? stepsBefore(FAILOVER_STEPS, carry.resumeAt) : undefined;
    await runStepTable(FAILOVER_STEP_TABLE, ctx, tracker, { ...config, doneEarlier }, {
      onFailure: config.onFailure,
      operatorTimeout: `${config.operatorTimeoutMinutes} minutes`,
    });
  } catch (err) {
    if (!(err instanceof ContinueAsNew)) tracker.setPhase('failed');
    throw err;
  }
  tracker.setPhase('succeeded');
  return {
    outcome: ctx.stop?.outcome ?? 'failed-back',
    pair,
    reasons: ctx.stop?.reasons ?? [],
    eastPercent: { ...status.eastPercent },
    sparesRegistered: [...status.sparesRegistered],
    notifications: { ...status.notifications },
    approvedBy: status.approvedBy,
    incidents: [...ctx.incidents],
  };
}

function pairOf(raw: unknown): { west: string; east: string } {
  const name = (c: unknown) => {
    const n = (c as { name?: unknown } | null | undefined)?.name;
    return typeof n === 'string' ? n.slice(0, 63) : '?';
  };
  const input = raw as { west?: unknown; east?: unknown } | null;
  return { west: name(input?.west), east: name(input?.east) };
}

// ------------------------------------------------------------------ decisions, state and messages

/** Records a decision: status query, progress facts (UI details), log; the history has the signal or activity behind it. */
function decide(ctx: FailoverContext, what: string, why: string): void {
  const decisions = ctx.status.decisions;
  decisions.push({ at: new Date().toISOString(), what, why });
  if (decisions.length > MAX_DECISIONS) decisions.splice(0, decisions.length - MAX_DECISIONS);
  ctx.tracker.setFact('last decision', `${what}: ${why}`);
  log.info('failover decision', { what, why });
}

function setState(ctx: FailoverContext, state: FailoverStatus['state']): void {
  const changed = ctx.status.state !== state;
  ctx.status.state = state;
  ctx.tracker.setFact('state', state);
  // Search attributes are written only when the state changes: each write is an event in the history.
  if (FAILOVER_STATE_KEY && (changed || !patched('kubeha-failover-attributes-on-change'))) upsertSearchAttributes([{ key: FAILOVER_STATE_KEY, value: state }]);
}

function onAlert(ctx: FailoverContext, n: AlertNotification): void {
  const counts = ctx.status.notifications;
  counts.total += 1;
  if (n.status === 'firing') counts.firing += 1;
  else counts.resolved += 1;
  const alerts = Array.isArray(n.alerts) ? n.alerts : [];
  const states = alerts.map((a) => `${a.fingerprint}|${a.startsAt}|${a.status}`);
  const news = states.filter((s) => !ctx.seenAlertStates.has(s));
  if (news.length === 0 && states.length > 0) counts.duplicates += 1;
  for (const s of news) ctx.seenAlertStates.add(s);
  if (ctx.seenAlertStates.size > MAX_SEEN_ALERT_STATES) ctx.seenAlertStates.clear();

  const firing = ctx.firingSince;
  const wasFiring = firing.size > 0;
  let stale = 0;
  let late = 0;
  // Runs that started before this rule kept re-arming on a late firing; they replay as they ran.
  const ignoreLateFirings = patched('kubeha-late-firing-ignored');
  for (const a of alerts) {
    const since = firing.get(a.fingerprint);
    const resolved = ctx.resolvedIncidents.get(a.fingerprint);
    if (a.status === 'firing') {
      // Alertmanager retries and HA peers deliver the firing of an incident that has resolved since.
      if (ignoreLateFirings && !since && resolved !== undefined && a.startsAt <= resolved) late += 1;
      else if (!since || a.startsAt > since) firing.set(a.fingerprint, a.startsAt);
      if (ctx.incidents.size < MAX_INCIDENTS) ctx.incidents.add(`${a.fingerprint}|${a.startsAt}`);
    } else if (since && a.startsAt < since) {
      // A late (retried or duplicated) resolution of an earlier incident of the same alert.
      stale += 1;
    } else {
      firing.delete(a.fingerprint);
      if (ignoreLateFirings && a.fingerprint) ctx.resolvedIncidents.set(a.fingerprint, a.startsAt);
    }
  }
  if (ctx.resolvedIncidents.size > MAX_SEEN_ALERT_STATES) ctx.resolvedIncidents.clear();
  if (stale > 0) decide(ctx, 'StaleResolutionIgnored', `${stale} resolution(s) of an earlier incident ignored: the alert fired again since`);
  if (late > 0) decide(ctx, 'LateFiringIgnored', `${late} firing notification(s) of an incident that already resolved ignored: the same alert must start again to re-arm`);
  ctx.status.firing = [...firing.keys()].sort();
  ctx.alertsSeen = true;
  const names = [...new Set(alerts.map((a) => a.labels?.alertname).filter(Boolean))].join(', ') || '(no alertname)';
  ctx.tracker.setFact('alerts', `${firing.size} firing; ${counts.total} notifications (${counts.firing} firing, ${counts.resolved} resolved, ${counts.duplicates} duplicates)`);

  if (firing.size > 0) {
    ctx.firingGeneration += 1;
    ctx.resolvedAt = undefined;
    if (!wasFiring) decide(ctx, 'AlertFiring', `${names} firing (route ${n.route}, receiver ${n.receiver})`);
  } else if (wasFiring || ctx.resolvedAt === undefined) {
    ctx.resolvedAt = Date.now();
    decide(ctx, 'AlertResolved', `${names} resolved (route ${n.route})`);
  }
}

function onApproval(ctx: FailoverContext, decision: 'approve' | 'reject', d?: ApprovalDecision): { decision: 'approve' | 'reject'; by?: string } {
  if (ctx.approval) {
    decide(ctx, 'ApprovalIgnored', `${decision} by ${d?.by ?? 'operator'} ignored: already ${ctx.approval.decision} by ${ctx.approval.by}`);
    return { decision: ctx.approval.decision, by: ctx.approval.by };
  }
  ctx.approval = { decision, by: (d?.by ?? 'operator').slice(0, 100), comment: d?.comment?.slice(0, 500) };
  return { decision, by: ctx.approval.by };
}

// ------------------------------------------------------------------ shared pieces of the steps

function splitRef(ctx: FailoverContext, s: ResolvedService): SplitRef {
  return {
    kubeconfigSecret: ctx.config.west.kubeconfigSecret,
    kind: s.split.kind,
    apiVersion: s.split.apiVersion,
    namespace: s.namespace,
    name: s.split.name,
    westBackend: s.westBackend,
    eastBackend: s.eastBackend,
  };
}

const keyOf = (s: ResolvedService) => `${s.namespace}/${s.split.name}`;

function describeReadiness(r: ServiceReadiness): string {
  if (!r.serviceExists) return `service ${r.service} does not exist`;
  return `${r.ready} ready, ${r.notReady} not ready (${r.source})`;
}

/** A readiness check whose failure is a finding, not an error of the step. */
async function readiness(kubeconfigSecret: string, namespace: string, name: string, summary: string): Promise<{ ok: boolean; detail: string; unreachable: boolean }> {
  try {
    const r = await failover.serviceReadiness.executeWithOptions({ summary }, [{ kubeconfigSecret, namespace, name }]);
    return { ok: r.serviceExists && r.ready > 0, detail: describeReadiness(r), unreachable: false };
  } catch (err) {
    const type = failureType(err);
    return { ok: false, detail: `${type ?? 'Error'}: ${rootMessage(err)}`, unreachable: type === ErrorType.Unreachable || type === ErrorType.CloudTransient };
  }
}

/** Whether west serves the services again: every west backend has ready endpoints. */
async function westHealthy(ctx: FailoverContext): Promise<{ ok: boolean; why: string }> {
  const problems: string[] = [];
  // One activity per check round, whatever the number of services: a long window stays small in history.
  if (patched('kubeha-failover-one-probe-per-round')) {
    try {
      const probed = await probes.servicesReadiness.executeWithOptions({ summary: `west health: ${ctx.services.length} service(s)` }, [
        { kubeconfigSecret: ctx.config.west.kubeconfigSecret, services: ctx.services.map((s) => ({ namespace: s.namespace, name: s.westBackend })) },
      ]);
      for (const p of probed) {
        if ('error' in p) problems.push(`${p.service}: ${p.error}`);
        else if (!p.readiness.serviceExists || p.readiness.ready === 0) problems.push(`${p.service}: ${describeReadiness(p.readiness)}`);
      }
    } catch (err) {
      problems.push(`west: ${rootMessage(err)}`);
    }
    return { ok: problems.length === 0, why: problems.length ? problems.join('; ') : 'every west backend has ready endpoints' };
  }
  for (const s of ctx.services) {
    try {
      const r = await probes.serviceReadiness.executeWithOptions({ summary: `west health: ${s.namespace}/${s.westBackend}` }, [
        { kubeconfigSecret: ctx.config.west.kubeconfigSecret, namespace: s.namespace, name: s.westBackend },
      ]);
      if (!r.serviceExists || r.ready === 0) problems.push(`${s.namespace}/${s.westBackend}: ${describeReadiness(r)}`);
    } catch (err) {
      problems.push(`${s.namespace}/${s.westBackend}: ${rootMessage(err)}`);
    }
  }
  return { ok: problems.length === 0, why: problems.length ? problems.join('; ') : 'every west backend has ready endpoints' };
}

/** Moves every service to each percentage in turn, skipping what a resumed step already did. */
async function shiftTraffic(ctx: FailoverContext, step: 'shift-traffic' | 'failback', percents: number[], reasonWord: 'FailoverShift' | 'FailbackShift', why: string): Promise<void> {
  const info = workflowInfo();
  const towardEast = reasonWord === 'FailoverShift';
  for (let i = 0; i < percents.length; i++) {
    const target = percents[i];
    for (const s of ctx.services) {
      const key = keyOf(s);
      const current = ctx.status.eastPercent[key];
      // Resume: a service already at or past this step (in the step's direction) is not moved back.
      if (current !== undefined && (towardEast ? current >= target : current <= target)) continue;
      ctx.tracker.setHost(step, key, 'running', 'Shifting', `east ${current ?? '?'}% → ${target}%`);
      const result = await failover.setSplitWeights.executeWithOptions({ summary: `${key}: east ${target}%` }, [
        {
          ...splitRef(ctx, s),
          eastPercent: target,
          event: {
            name: `${s.split.name}.${info.workflowId}.${info.runId.slice(0, 8)}.${step}-${target}`,
            reason: reasonWord,
            message: `kubeha ${info.workflowId}: ${s.westBackend} ${100 - target} / ${s.eastBackend} ${target} (step ${i + 1} of ${percents.length}): ${why}`,
          },
        },
      ]);
      ctx.status.eastPercent[key] = result.after.eastPercent;
      const verb = result.changed ? 'Shifted' : 'AlreadyShifted';
      ctx.tracker.setHost(step, key, 'running', verb, `east ${result.before.eastPercent}% → ${result.after.eastPercent}% (read back and verified)`);
      decide(ctx, verb, `${key}: east ${result.after.eastPercent}% (was ${result.before.eastPercent}%), step ${i + 1} of ${percents.length}: ${why}`);
    }
    if (i < percents.length - 1 && ctx.config.stepPauseSeconds > 0) {
      ctx.tracker.setStep(step, 'waiting', 'Settling', `${ctx.config.stepPauseSeconds} s before the next step`);
      await sleep(`${ctx.config.stepPauseSeconds} seconds`);
      ctx.tracker.setStep(step, 'running');
    }
  }
  for (const s of ctx.services) ctx.tracker.setHost(step, keyOf(s), 'done', 'Verified', `east ${ctx.status.eastPercent[keyOf(s)]}%`);
}

function triggerText(ctx: FailoverContext): string {
  const alerts = ctx.alertsSeen ? `${ctx.status.firing.length} alert(s) firing` : 'started by hand';
  const approval = ctx.status.approvedBy ? `; approved by ${ctx.status.approvedBy}` : '';
  return `${alerts}${approval}`;
}

/**
 * etcd asked with a short retry: a cluster that lost quorum does not answer `member list` at all (etcd
 * 3.5+ makes it linearizable), and the failover must not wait minutes on it before moving traffic.
 */
const etcdProbe = proxyActivities<Pick<HostActivities, 'etcdMembers'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '2 seconds', maximumAttempts: 2 },
});

/** What etcd said about its quorum, or why it could not say. */
type QuorumAnswer = { known: true; healthyVoters: number; voters: number; quorum: number; via: string } | { known: false; reason: string };

/** Asks etcd about its members through the first host that answers: spares first, they are alive by design. */
async function etcdQuorum(candidates: HostSpec[]): Promise<QuorumAnswer> {
  const reasons: string[] = [];
  for (const host of candidates) {
    try {
      const members = await etcdProbe.etcdMembers.executeWithOptions({ summary: `etcd members via ${host.name}` }, [{ host }]);
      const voters = members.filter((m) => !m.isLearner);
      const quorum = Math.floor(voters.length / 2) + 1;
      return { known: true, healthyVoters: voters.filter((m) => m.healthy).length, voters: voters.length, quorum, via: host.name };
    } catch (err) {
      reasons.push(`${host.name}: ${rootMessage(err).slice(0, 200)}`);
    }
  }
  return { known: false, reason: reasons.join('; ') || 'no host to ask etcd through' };
}


// ------------------------------------------------------------------ the step table

const stopped = (ctx: FailoverContext) => (ctx.stop ? `${ctx.stop.outcome}: ${ctx.stop.reasons.join('; ')}` : undefined);

/** The steps of FailoverToEast, in order (names in FAILOVER_STEPS). */
export const FAILOVER_STEP_TABLE: readonly Step<FailoverContext>[] = [
  {
    name: 'precheck',
    description: "East can take the load: its gateway and each service have ready endpoints, and west's mirror services point at it. Else nothing changes.",
    async run(ctx) {
      const { config } = ctx;
      const reasons: string[] = [];
      // Every check at once: a failover is urgent, and the checks are independent reads.
      const [gw, perService] = await Promise.all([
        readiness(config.east.kubeconfigSecret, config.east.gateway.namespace, config.east.gateway.service, `east gateway ${config.east.gateway.namespace}/${config.east.gateway.service}`),
        Promise.all(
          ctx.services.map(async (s) => {
            const [east, mirror] = await Promise.all([
              readiness(config.east.kubeconfigSecret, s.namespace, s.eastService, `east ${s.namespace}/${s.eastService}`),
              readiness(config.west.kubeconfigSecret, s.namespace, s.eastBackend, `west mirror ${s.namespace}/${s.eastBackend}`),
            ]);
            return { s, east, mirror };
          }),
        ),
      ]);
      ctx.tracker.setHost('precheck', 'east gateway', gw.ok ? 'done' : 'failed', gw.ok ? 'Ready' : 'NotReady', gw.detail);
      if (!gw.ok) reasons.push(`east gateway ${config.east.gateway.namespace}/${config.east.gateway.service}: ${gw.detail}`);
      for (const { s, east, mirror } of perService) {
        ctx.tracker.setHost('precheck', `east ${s.namespace}/${s.eastService}`, east.ok ? 'done' : 'failed', east.ok ? 'Ready' : 'NotReady', east.detail);
        if (!east.ok) reasons.push(`east service ${s.namespace}/${s.eastService}: ${east.detail}`);
        if (mirror.unreachable && config.controlPlane) {
          // West's API may be what failed: the control-plane step can bring it back; shift-traffic checks again.
          ctx.westMirrorUnverified = true;
          ctx.tracker.setHost('precheck', `west mirror ${s.namespace}/${s.eastBackend}`, 'waiting', 'Unverified', `west API unreachable (${mirror.detail}); checked again before the shift`);
          continue;
        }
        ctx.tracker.setHost('precheck', `west mirror ${s.namespace}/${s.eastBackend}`, mirror.ok ? 'done' : 'failed', mirror.ok ? 'Ready' : 'NotReady', mirror.detail);
        if (!mirror.ok) reasons.push(`west mirror ${s.namespace}/${s.eastBackend}: ${mirror.detail}`);
      }
      if (reasons.length > 0) {
        ctx.stop = { outcome: 'refused', reasons };
        setState(ctx, 'refused');
        decide(ctx, 'Refused', `east cannot take the load, nothing changed: ${reasons.join('; ')}`);
        ctx.tracker.setStep('precheck', 'running', 'Refused', reasons.join('; '));
        return;
      }
      decide(ctx, 'PrecheckPassed', `east gateway and ${ctx.services.length} service(s) ready${ctx.westMirrorUnverified ? '; west mirrors unverified (west API unreachable)' : ''}`);
      ctx.tracker.setStep('precheck', 'running', 'EastReady', 'east can take the load');
    },
  },
  {
    name: 'approve',
    description: 'When the input asks for it, wait for an "approve" or "reject" signal (or the "approval" update) until the timeout, then apply the configured default.',
    skipReason: (ctx) => stopped(ctx) ?? (ctx.config.approval.required ? undefined : 'approval not required by the input'),
    async run(ctx) {
      const { approval } = ctx.config;
      setState(ctx, 'awaiting-approval');
      ctx.approvalPending = true;
      ctx.tracker.setPhase('waiting', `approval: signal "approve" or "reject" within ${approval.timeoutMinutes} min (then: ${approval.onTimeout})`);
      const answered = await condition(() => ctx.approval !== undefined || (ctx.alertsSeen && ctx.resolvedAt !== undefined), `${approval.timeoutMinutes * 60} seconds`);
      ctx.approvalPending = false;
      ctx.tracker.setPhase('running');
      if (!ctx.approval && ctx.alertsSeen && ctx.resolvedAt !== undefined) {
        ctx.stop = { outcome: 'rejected', reasons: ['the alert resolved before anyone approved'] };
      } else if (!answered || !ctx.approval) {
        ctx.approval = { decision: approval.onTimeout, by: `timeout (${approval.timeoutMinutes} min, default ${approval.onTimeout})` };
      }
      if (ctx.approval?.decision === 'approve') {
        ctx.status.approvedBy = ctx.approval.by;
        decide(ctx, 'Approved', `approved by ${ctx.approval.by}${ctx.approval.comment ? `: ${ctx.approval.comment}` : ''}`);
        ctx.tracker.setStep('approve', 'running', 'Approved', `by ${ctx.approval.by}`);
        return;
      }
      if (ctx.approval) ctx.stop = { outcome: 'rejected', reasons: [`rejected by ${ctx.approval.by}${ctx.approval.comment ? `: ${ctx.approval.comment}` : ''}`] };
      setState(ctx, 'rejected');
      decide(ctx, 'Rejected', ctx.stop?.reasons.join('; ') ?? 'rejected');
      ctx.tracker.setStep('approve', 'running', 'Rejected', ctx.stop?.reasons.join('; '));
    },
  },
  {
    name: 'control-plane',
    description: "When west's registered control-plane targets are unhealthy, register the spare(s) after checking etcd keeps quorum with them, and wait until healthy. Never deregisters.",
    skipReason: (ctx) => stopped(ctx) ?? (ctx.config.controlPlane ? undefined : 'no controlPlane in the input'),
    async run(ctx) {
      const cp = ctx.config.controlPlane;
      if (!cp) return;
      setState(ctx, 'failing-over');
      const step = 'control-plane';
      // Runs before the shift: the split lives in west's API, reached through this load balancer.
      const targets = await aws.describeTargetHealth.executeWithOptions({ summary: 'control-plane targets health' }, [{ aws: cp.aws, targetGroupArn: cp.targetGroupArn }]);
      const registered = targets.filter((t) => cp.controlPlanes.some((h) => h.address === t.ip));
      const healthy = registered.filter((t) => t.state === 'healthy');
      const summary = `${healthy.length} of ${registered.length} registered control-plane targets healthy (need ${cp.minHealthyTargets})`;
      ctx.tracker.setFact('control-plane targets', summary);
      if (healthy.length >= cp.minHealthyTargets) {
        decide(ctx, 'ControlPlaneHealthy', `${summary}: spares stay out of the load balancer`);
        ctx.tracker.setStep(step, 'running', 'NotNeeded', summary);
        return;
      }
      const quorum = await etcdQuorum([...cp.spares, ...cp.controlPlanes]);
      if (!quorum.known) {
        // No member answered: the spare cannot be proven useful, but traffic must still move.
        ctx.tracker.setFact('etcd quorum', `unknown (${quorum.reason})`);
        decide(ctx, 'QuorumUnknown', `${summary}; etcd did not answer through any host, quorum unknown: spares not registered, traffic shift goes on (${quorum.reason})`);
        ctx.tracker.setStep(step, 'running', 'QuorumUnknown', quorum.reason);
        return;
      }
      const quorumText = `etcd via ${quorum.via}: ${quorum.healthyVoters} of ${quorum.voters} voters healthy, quorum ${quorum.quorum}`;
      ctx.tracker.setFact('etcd quorum', quorumText);
      if (quorum.healthyVoters < quorum.quorum) {
        decide(ctx, 'SpareNotRegistered', `${summary}, but ${quorumText}: an API server on the spare could not serve writes; restore etcd quorum first`);
        ctx.tracker.setStep(step, 'running', 'NoQuorum', quorumText);
        return;
      }
      for (const spare of cp.spares) {
        ctx.tracker.setHost(step, spare.name, 'running', 'Registering', `${spare.address}:6443`);
        const ref = { aws: cp.aws, targetGroupArn: cp.targetGroupArn, ip: spare.address, port: 6443 };
        const { registered: didRegister } = await aws.registerTarget.executeWithOptions({ summary: `register spare ${spare.name}` }, [ref]);
        decide(ctx, didRegister ? 'SpareRegistered' : 'SpareAlreadyRegistered', `${spare.name} (${spare.address}) in the target group: ${summary}; ${quorumText}`);
        ctx.tracker.setHost(step, spare.name, 'waiting', 'WaitingTargetHealthy', 'registered; waiting for the health checks');
        const { state, waitedSeconds } = await waits.waitTargetHealthy.executeWithOptions({ summary: `wait until spare ${spare.name} is healthy` }, [
          { ...ref, deadlineSeconds: cp.healthyDeadlineSeconds },
        ]);
        if (!ctx.status.sparesRegistered.includes(spare.name)) ctx.status.sparesRegistered.push(spare.name);
        ctx.tracker.setHost(step, spare.name, 'done', 'TargetHealthy', `${state} after ${waitedSeconds} s`);
      }
      ctx.tracker.setFact('spares in the load balancer', `${ctx.status.sparesRegistered.join(', ')} (failover never deregisters; an operator decides)`);
      ctx.tracker.setStep(step, 'running', 'SparesHealthy', `${ctx.status.sparesRegistered.join(', ')} serving the API`);
    },
  },
  {
    name: 'shift-traffic',
    description: 'Move traffic to east on each split in the configured steps; each change is read back and verified before the next, and recorded as an Event on the object.',
    skipReason: stopped,
    async run(ctx) {
      setState(ctx, 'failing-over');
      if (ctx.westMirrorUnverified) {
        const problems: string[] = [];
        for (const s of ctx.services) {
          const mirror = await readiness(ctx.config.west.kubeconfigSecret, s.namespace, s.eastBackend, `west mirror ${s.namespace}/${s.eastBackend}`);
          if (!mirror.ok) problems.push(`${s.namespace}/${s.eastBackend}: ${mirror.detail}`);
        }
        if (problems.length) {
          throw kubehaFailure({
            type: ErrorType.NotReady,
            message: `west's mirror services are not ready: ${problems.join('; ')}`,
            retryable: true,
            hint: "west's API must answer and its service mirror must point at east's gateway (linkerd multicluster check); retry the step once it does",
          });
        }
        ctx.westMirrorUnverified = false;
        decide(ctx, 'MirrorsVerified', "west's mirror services point at east");
      }
      await shiftTraffic(ctx, 'shift-traffic', ctx.config.steps, 'FailoverShift', triggerText(ctx));
      setState(ctx, 'failed-over');
    },
  },
  {
    name: 'hold',
    description: 'Stay failed over, answering the status query, until the alert resolves or a "failback" signal forces the way back.',
    skipReason: stopped,
    async run(ctx) {
      setState(ctx, 'failed-over');
      const released = () => (ctx.alertsSeen && ctx.resolvedAt !== undefined) || ctx.failbackForced !== undefined;
      if (!released()) {
        if (ctx.runsBefore === 0) decide(ctx, 'Holding', `failed over; waiting for the alert to resolve (${triggerText(ctx)})`);
        ctx.tracker.setPhase('waiting', 'the alert to resolve (Alertmanager sends "resolved"), or a "failback" signal');
        while (!released()) {
          await condition(() => released() || handOverDue(ctx));
          await handOver(ctx, 'hold');
        }
        ctx.tracker.setPhase('running');
      }
      ctx.tracker.setStep('hold', 'running', ctx.failbackForced ? 'FailbackForced' : 'Resolved', ctx.failbackForced ? `by ${ctx.failbackForced.by}` : 'the alert resolved');
    },
  },
  {
    name: 'failback',
    description: 'After the alert resolved, wait until west has been healthy for the whole hysteresis window (a new firing or an unhealthy check restarts it), then move traffic back in steps with the same verification.',
    skipReason: stopped,
    async run(ctx) {
      await failbackWindow(ctx);
      setState(ctx, 'failing-back');
      const why = ctx.failbackForced ? `failback forced by ${ctx.failbackForced.by}` : `alert resolved and west healthy for ${ctx.config.failback.hysteresisSeconds} s`;
      decide(ctx, 'FailingBack', why);
      await shiftTraffic(ctx, 'failback', failbackSteps(ctx.config), 'FailbackShift', why);
      setState(ctx, 'failed-back');
      if (ctx.status.sparesRegistered.length) {
        decide(ctx, 'SparesKept', `${ctx.status.sparesRegistered.join(', ')} stay in the load balancer: deregistration is an operator's decision`);
      }
    },
  },
];

/**
 * The hysteresis window: returns when west has been healthy for `hysteresisSeconds` since the alert
 * resolved, or at once when failback is forced. A new firing alert waits for the next resolution and
 * starts over; an unhealthy check starts the window over.
 */
/** Whether the run should hand over to a new run now (history full, and this run may). */
function handOverDue(ctx: FailoverContext): boolean {
  return ctx.mayContinue && historyFull();
}

/** Continues as new at `step` when due; returns when not. */
async function handOver(ctx: FailoverContext, step: ResumableStep): Promise<void> {
  if (!handOverDue(ctx)) return;
  decide(ctx, 'ContinuedAsNew', `history at ${workflowInfo().historyLength} events: run ${ctx.runsBefore + 2} takes over at ${step}`);
  await continueIfFull(ctx, ctx.tracker.progress, step, ctx.input, ctx.runsBefore);
}

async function failbackWindow(ctx: FailoverContext): Promise<void> {
  const { failback } = ctx.config;
  const windowMs = failback.hysteresisSeconds * 1000;
  // A run that continued from an earlier one keeps the window it had started.
  let healthySince: number | undefined = ctx.runsBefore > 0 && ctx.status.westHealthySince ? Date.parse(ctx.status.westHealthySince) : undefined;
  // Say "west is not healthy" once per unhealthy stretch, not on every check.
  let announcedUnhealthy = false;
  setState(ctx, 'failback-window');
  for (;;) {
    if (ctx.failbackForced) return;
    await handOver(ctx, 'failback');
    if (ctx.resolvedAt === undefined && ctx.alertsSeen) {
      // Fired again during the window: back to holding until the next resolution.
      healthySince = undefined;
      announcedUnhealthy = false;
      ctx.status.westHealthySince = undefined;
      setState(ctx, 'failed-over');
      decide(ctx, 'WindowRestarted', 'the alert fired again during the failback window; waiting for it to resolve');
      ctx.tracker.setPhase('waiting', 'the alert fired again: waiting for it to resolve before the window starts over');
      await condition(() => ctx.resolvedAt !== undefined || ctx.failbackForced !== undefined || handOverDue(ctx));
      ctx.tracker.setPhase('running');
      if (ctx.resolvedAt === undefined && !ctx.failbackForced) continue; // handed over at the top of the loop
      setState(ctx, 'failback-window');
      continue;
    }
    if (!failback.automatic) {
      ctx.tracker.setPhase('waiting', 'resolved; automatic failback is off: signal "failback" to move traffic back');
      decide(ctx, 'WaitingForOperator', 'alert resolved; automatic failback is off in the input');
      await condition(() => ctx.failbackForced !== undefined || handOverDue(ctx));
      ctx.tracker.setPhase('running');
      if (!ctx.failbackForced) continue; // handed over at the top of the loop
      return;
    }
    const health = await westHealthy(ctx);
    const now = Date.now();
    if (health.ok) {
      if (healthySince === undefined) {
        healthySince = now;
        announcedUnhealthy = false;
        ctx.status.westHealthySince = new Date(now).toISOString();
        decide(ctx, 'WindowStarted', `west healthy (${health.why}); failing back after ${failback.hysteresisSeconds} s of health`);
      }
      if (now - healthySince >= windowMs) return;
    } else if (healthySince !== undefined || !announcedUnhealthy) {
      decide(ctx, healthySince !== undefined ? 'WindowRestarted' : 'WaitingForWest', `${healthySince !== undefined ? 'west unhealthy again' : 'alert resolved but west is not healthy yet'}: ${health.why}`);
      announcedUnhealthy = true;
      healthySince = undefined;
      ctx.status.westHealthySince = undefined;
    }
    const remaining = healthySince === undefined ? windowMs : windowMs - (now - healthySince);
    const waitMs = Math.max(1000, Math.min(failback.checkIntervalSeconds * 1000, remaining));
    ctx.tracker.setPhase('waiting', healthySince === undefined ? `west to become healthy (${health.why})` : `west healthy since ${new Date(healthySince).toISOString()}; failback in ${Math.ceil(remaining / 1000)} s unless it fires again`);
    const generation = ctx.firingGeneration;
    await condition(() => ctx.failbackForced !== undefined || ctx.firingGeneration !== generation, waitMs);
    ctx.tracker.setPhase('running');
  }
}
