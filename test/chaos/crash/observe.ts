/**
 * Watching a run from outside, as an operator would: its progress query, the commands a lab host
 * receives, the activities Temporal says are running. A trigger is the moment a point acts (kills
 * the worker, restarts the server, injects a fault), decided from these observations only.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Progress } from '../../../common/progress';
import type { LabUpResult } from '../../../lab/orchestrator';
import { pendingActivities, type StartedActivity } from '../../lab/e2e/labWorkerRun';
import { commandsSince } from './records';

/** When a point acts. */
export type Trigger =
  /** As soon as the run starts (the first workflow task may still be queued). */
  | { kind: 'run-start' }
  /** The progress query shows `step` running (its first attempt). */
  | { kind: 'step'; step: string }
  /** The progress query shows `host` within `step` with condition reason `reason`. */
  | { kind: 'host'; step: string; host: string; reason: string }
  /** The host's commands.log received the `nth` (default 1st) command line matching `pattern`. */
  | { kind: 'command'; host: string; pattern: RegExp; label: string; nth?: number }
  /** Temporal shows an activity of this type started. */
  | { kind: 'activity'; type: string };

/** A trigger in words, for the campaign table. */
export function describeTrigger(t: Trigger): string {
  switch (t.kind) {
    case 'run-start':
      return 'run started';
    case 'step':
      return `step ${t.step} starts`;
    case 'host':
      return `${t.step}: ${t.host} ${t.reason}`;
    case 'command':
      return `${t.nth && t.nth > 1 ? `#${t.nth} ` : ''}\`${t.label}\` reaches ${t.host}`;
    case 'activity':
      return `activity ${t.type} running`;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The progress query, or undefined while no worker answers (a query needs one). */
export async function progressOf(handle: WorkflowHandle): Promise<Progress | undefined> {
  try {
    return await handle.query<Progress>('progress');
  } catch {
    return undefined;
  }
}

function ended(progress: Progress | undefined): boolean {
  return progress?.phase === 'succeeded' || progress?.phase === 'failed';
}

/**
 * Waits until `trigger` holds; returns a note when it held only approximately. Fails when the run ends
 * first or nothing happens within `timeoutMs`.
 * Command triggers poll the host's log every 25 ms (the next command may follow within a second);
 * the others every 150 ms.
 */
export async function waitForTrigger(
  handle: WorkflowHandle,
  lab: LabUpResult | undefined,
  trigger: Trigger,
  timeoutMs = 15 * 60_000,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let lastProgressAt = 0;
  let progress: Progress | undefined;
  for (;;) {
    if (Date.now() > deadline)
      throw new Error(`trigger "${describeTrigger(trigger)}" never held within ${timeoutMs} ms (last phase ${progress?.phase}, step ${progress?.currentStep})`);
    if (trigger.kind === 'run-start') return undefined;
    if (trigger.kind === 'command') {
      if (!lab) throw new Error('a command trigger needs a lab');
      if (commandsSince(lab, trigger.host, trigger.pattern) >= (trigger.nth ?? 1)) return undefined;
      // The log is cheap to read; the query is not: ask it only now and then, to notice a run that ended.
      if (Date.now() - lastProgressAt > 2000) {
        lastProgressAt = Date.now();
        progress = await progressOf(handle);
        if (ended(progress)) throw new Error(`the run ended (${progress?.phase}) before "${describeTrigger(trigger)}"`);
      }
      await sleep(25);
      continue;
    }
    if (trigger.kind === 'activity') {
      const { status, started } = await pendingActivities(handle);
      if (started.some((a) => a.type === trigger.type)) return undefined;
      if (status !== 'RUNNING') throw new Error(`the run ended (${status}) before "${describeTrigger(trigger)}"`);
      await sleep(150);
      continue;
    }
    progress = await progressOf(handle);
    if (ended(progress)) throw new Error(`the run ended (${progress?.phase}) before "${describeTrigger(trigger)}"`);
    const step = progress?.steps.find((s) => s.step === trigger.step);
    // A step can start and end between two looks (a target already healthy): its end is the boundary then.
    if (trigger.kind === 'step' && step && step.state !== 'pending')
      return step.state === 'running' || step.state === 'waiting' ? undefined : `step already ${step.state} when seen: acted at its end`;
    if (trigger.kind === 'host' && step?.hosts.some((h) => h.host === trigger.host && h.reason === trigger.reason)) return undefined;
    await sleep(150);
  }
}

/** What the killed worker held when it died, and how long Temporal will wait before another worker may take it. */
export interface InFlight {
  activity?: StartedActivity;
  /** The timeout that must pass before the work resumes elsewhere, in words. */
  bound: string;
  /** The same, in ms (the longest wait the settings allow before a retry is dispatched). */
  boundMs: number;
}

/** Most activity proxies' heartbeat timeout (workflows/engine/activities.ts); activities beat every 2 s. */
const HEARTBEAT_TIMEOUT_MS = 10_000;
/** The retry policy's first back-off (workflows/engine/activities.ts). */
const FIRST_BACKOFF_MS = 2000;
/** The SDK's default workflow task timeout. */
const WORKFLOW_TASK_TIMEOUT_MS = 10_000;

/** The heartbeat timeout the run scheduled activity `id` with (BackupEtcd's snapshot has 30 s, not the usual 10 s). */
async function heartbeatTimeoutOf(handle: WorkflowHandle, id: string): Promise<number> {
  const { events } = await handle.fetchHistory();
  const scheduled = (events ?? []).find((e) => e.activityTaskScheduledEventAttributes?.activityId === id);
  const timeout = scheduled?.activityTaskScheduledEventAttributes?.heartbeatTimeout;
  return timeout ? Number(timeout.seconds ?? 0) * 1000 + Math.floor((timeout.nanos ?? 0) / 1e6) : HEARTBEAT_TIMEOUT_MS;
}

/** Reads what the dead worker `identity` still holds, from Temporal's pending activities. */
export async function inFlightOf(handle: WorkflowHandle, identity: string): Promise<InFlight> {
  const held = (await pendingActivities(handle)).started.find((a) => a.worker === identity);
  if (!held) return { bound: 'no activity held: workflow task timeout 10 s at most', boundMs: WORKFLOW_TASK_TIMEOUT_MS };
  const heartbeat = await heartbeatTimeoutOf(handle, held.id).catch(() => HEARTBEAT_TIMEOUT_MS);
  return { activity: held, bound: `${held.type} heartbeat ${heartbeat / 1000} s + 2 s back-off`, boundMs: heartbeat + FIRST_BACKOFF_MS };
}

function eventMs(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!time) return 0;
  return Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

/**
 * Waits for the run's next progress after `since`: an activity started by `identity` (the new worker),
 * a workflow task completed by it (or by anyone when `identity` is undefined: a server restart), or
 * the run's end. Returns the ms from `since` to that moment.
 */
export async function nextProgress(handle: WorkflowHandle, since: number, identity: string | undefined, timeoutMs = 5 * 60_000): Promise<number> {
  const deadline = since + timeoutMs;
  let lastHistoryAt = 0;
  for (;;) {
    const now = Date.now();
    if (now > deadline) throw new Error(`no progress within ${timeoutMs} ms`);
    try {
      const { status, started } = await pendingActivities(handle);
      if (status !== 'RUNNING') return Date.now() - since;
      if (identity && started.some((a) => a.worker === identity)) return Date.now() - since;
      if (now - lastHistoryAt > 1000) {
        lastHistoryAt = now;
        const { events } = await handle.fetchHistory();
        const done = (events ?? []).find((e) => {
          const at = eventMs(e.eventTime as never);
          if (at <= since) return false;
          if (e.workflowTaskCompletedEventAttributes) return !identity || e.workflowTaskCompletedEventAttributes.identity === identity;
          return !identity && Boolean(e.activityTaskCompletedEventAttributes || e.activityTaskScheduledEventAttributes);
        });
        if (done) return Math.max(0, eventMs(done.eventTime as never) - since);
      }
    } catch {
      // The server is still coming back.
    }
    await sleep(200);
  }
}
