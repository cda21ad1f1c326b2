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
import { defineQuery, defineSignal, defineUpdate, patched, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
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
} from '../../common/inputs/failoverToEast';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { parseInput } from '../../common/validation';
import { progressQuery, ProgressTracker } from '../engine/progress';
import { runStepTable, type Step } from '../engine/steps';
import { pairOf } from '../engine/subject';
import { awaitApproval } from './approve';
import { stepsBefore, type FailoverCarry } from './continueAsNew';
import { registerSpares } from './controlPlane';
import { type FailoverContext, type FailoverResult, resultOf } from './data';
import { failBack } from './failback';
import { hold } from './hold';
import { Incident } from './incident';
import { precheck } from './precheck';
import { shiftToEast } from './shiftTraffic';

export type { FailoverResult } from './data';

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

const stopped = (ctx: FailoverContext) => (ctx.stop ? `${ctx.stop.outcome}: ${ctx.stop.reasons.join('; ')}` : undefined);

/** The steps of FailoverToEast, in order (names in FAILOVER_STEPS). */
export const FAILOVER_STEP_TABLE: readonly Step<FailoverContext>[] = [
  {
    name: 'precheck',
    description:
      "East can take the load: its gateway and each service have ready endpoints, east's own splits exist, each service's Route 53 record pair is in place. Asks nothing of west (it may be gone). Else nothing changes.",
    run: precheck,
  },
  {
    name: 'approve',
    description:
      'When the input asks for it, wait for an "approve" or "reject" signal (or the "approval" update) until the timeout, then apply the configured default.',
    skipReason: (ctx) => stopped(ctx) ?? (ctx.config.approval.required ? undefined : 'approval not required by the input'),
    run: awaitApproval,
  },
  {
    name: 'control-plane',
    description:
      "When west's registered control-plane targets are unhealthy, register the spare(s) after checking etcd keeps quorum with them, and wait until healthy. Never deregisters. Without quorum, start RecoverControlPlane for west (controlPlane.recover: approve, auto or never).",
    skipReason: (ctx) => stopped(ctx) ?? (ctx.config.controlPlane ? undefined : 'no controlPlane in the input'),
    run: registerSpares,
  },
  {
    name: 'shift-traffic',
    description:
      "Move traffic to east in the configured steps: per service and all at once, Route 53's weighted records (one change batch, waited INSYNC), east's own split and west's split (its mirrors checked first); each change is read back before the next step and recorded as an Event on the object. West's API not answering: its split is left out with the reason, the other paths carry the shift.",
    skipReason: stopped,
    run: shiftToEast,
  },
  {
    name: 'hold',
    description: 'Stay failed over, answering the status query, until the alert resolves or a "failback" signal forces the way back.',
    skipReason: stopped,
    run: hold,
  },
  {
    name: 'failback',
    description:
      'After the alert resolved, wait until west has been healthy for the whole hysteresis window (a new firing or an unhealthy check restarts it); set a west split that was left out to match the DNS weights; then move every path back in steps with the same verification.',
    skipReason: stopped,
    run: failBack,
  },
];

/** Starts, or resumes, the failover of one west/east pair. Takes ONE object (the Web UI form's one value). */
export async function FailoverToEast(rawInput: unknown, carry?: FailoverCarry): Promise<FailoverResult> {
  const pair = pairOf(rawInput);
  const tracker = new ProgressTracker('FailoverToEast', `pair ${pair.west} → ${pair.east}`, FAILOVER_STEPS);
  const incident = new Incident(tracker, pair);
  // A continued run takes over the incident before its handlers run: a signal delivered with the run's
  // first task is then counted on top of the handed-over state instead of being overwritten by it.
  const restoreFirst = carry !== undefined && patched('kubeha-failover-restore-before-handlers');
  if (carry && restoreFirst) incident.restore(carry);
  // Handlers first: the webhook's signal-with-start delivers the alert with the start.
  setHandler(progressQuery, () => tracker.progress);
  setHandler(statusQuery, () => incident.status);
  setHandler(alertSignal, (n) => incident.onAlert(n));
  setHandler(approveSignal, (d) => void incident.onApproval('approve', d));
  setHandler(rejectSignal, (d) => void incident.onApproval('reject', d));
  setHandler(approvalUpdate, (u) => incident.onApproval(u.decision, u), { validator: (u) => incident.validateApproval(u) });
  setHandler(failbackSignal, (d) => incident.onFailback(d));

  // Validation comes before any activity: a bad input fails the run here, with every bad field named.
  const config = parseInput('FailoverToEast', failoverToEastInputSchema, rawInput);
  incident.approvalRequired = config.approval.required;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: config.west.name }]);
  // A long incident continues as new while it waits; runs that started before this rule keep one run.
  const mayContinue = patched('kubeha-failover-continue-as-new');
  if (carry) {
    // The run before this one handed over while it waited: resume at the same step with its state.
    if (!restoreFirst) incident.restore(carry);
    tracker.restore(carry.progress);
    tracker.setFact('runs', `continued as new ${carry.runsBefore} time(s) to keep the history short; resumed at ${carry.resumeAt}`);
  }
  const ctx: FailoverContext = {
    config,
    tracker,
    services: config.services.map((s) => resolveService(s, config.east.name, config.west.name)),
    incident,
    input: rawInput,
    runsBefore: carry?.runsBefore ?? 0,
    mayContinue,
    westMirrorUnverified: carry?.westMirrorUnverified ?? false,
    westOptional: patched('kubeha-failover-west-optional'),
    westDown: Object.values(incident.status.traffic).find((t) => t.westSplit?.skipped)?.westSplit?.skipped,
  };
  incident.setState(carry ? incident.status.state : 'checking');
  tracker.setFact('pair', `${config.west.name} → ${config.east.name}`);
  tracker.setFact('services', ctx.services.map((s) => `${s.namespace}/${s.name} (${s.split.kind})`).join(', '));
  tracker.setFact('steps', `${config.steps.join(' → ')} % to east; back ${failbackSteps(config).join(' → ')} %`);

  const doneEarlier = carry ? stepsBefore(FAILOVER_STEPS, carry.resumeAt) : undefined;
  await runStepTable(FAILOVER_STEP_TABLE, ctx, tracker, { ...config, doneEarlier });
  tracker.setPhase('succeeded');
  return resultOf(ctx);
}
