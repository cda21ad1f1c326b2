/**
 * FailoverToEast across runs. An incident can last for hours, and every signal, probe and timer adds to
 * the run's history, which Temporal caps (10,240 events warn, 51,200 terminate). When the server
 * suggests it, or the history passes a safe size, the run continues as new while it waits (holding, or
 * in the failback window) and hands its state to the next run, which resumes at the same step: the
 * workflow id, the alert bookkeeping, the approval, the decisions and the progress stay the same.
 */
import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import type { FailoverStatus } from '../../common/inputs/failoverToEast';
import type { Progress } from '../../common/progress';
import type { FailoverContext } from './data';

/** A history this long continues as new even without the server's suggestion (10,240 is where it warns). */
export const CONTINUE_AS_NEW_AT_EVENTS = 8000;

/** The steps a run can continue from: the two that wait for the world. */
export type ResumableStep = 'hold' | 'failback';

/** What one run hands to the next. Sets and maps travel as arrays (payloads are JSON). */
export interface FailoverCarry {
  resumeAt: ResumableStep;
  /** How many runs came before the new one. */
  runsBefore: number;
  progress: Progress;
  status: FailoverStatus;
  approval?: { decision: 'approve' | 'reject'; by: string; comment?: string };
  westMirrorUnverified: boolean;
  firingGeneration: number;
  resolvedAt?: number;
  alertsSeen: boolean;
  failbackForced?: { by: string };
  seenAlertStates: string[];
  firingSince: Array<[string, string]>;
  resolvedIncidents: Array<[string, string]>;
  incidents: string[];
}

/** The part of the failover's state that travels: the incident's, and what the precheck left open. */
export type CarriedState = Omit<FailoverCarry, 'resumeAt' | 'runsBefore' | 'progress'>;

/** Whether this run's history is long enough to hand over (deterministic: read from the task's info). */
export function historyFull(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > CONTINUE_AS_NEW_AT_EVENTS;
}

/** Whether the run should hand over to a new run now (history full, and this run may). */
export function handOverDue(ctx: FailoverContext): boolean {
  return ctx.mayContinue && historyFull();
}

/** Continues as new at `step` when due; returns when not. */
export async function handOver(ctx: FailoverContext, step: ResumableStep): Promise<void> {
  if (!handOverDue(ctx)) return;
  ctx.incident.decide('ContinuedAsNew', `history at ${workflowInfo().historyLength} events: run ${ctx.runsBefore + 2} takes over at ${step}`);
  await continueIfFull(ctx, step);
}

/**
 * Continues as new when the history is full; returns when it is not. Runs that started before this rule
 * keep their single run (patched), so their histories replay as they ran.
 */
async function continueIfFull(ctx: FailoverContext, resumeAt: ResumableStep): Promise<void> {
  if (!historyFull() || !patched('kubeha-failover-continue-as-new')) return;
  // Signals and the approval update are state: let every handler finish before the state is copied.
  await condition(allHandlersFinished);
  const carry: FailoverCarry = { resumeAt, runsBefore: ctx.runsBefore + 1, progress: ctx.tracker.progress, ...ctx.incident.carried(ctx.westMirrorUnverified) };
  await continueAsNew<(input: unknown, carry: FailoverCarry) => Promise<unknown>>(ctx.input, carry);
}

/** The steps the earlier runs finished: every step before the one resumed. */
export function stepsBefore(steps: readonly string[], resumeAt: ResumableStep): string[] {
  return steps.slice(0, steps.indexOf(resumeAt));
}
