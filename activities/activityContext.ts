/**
 * The bits of Temporal's activity context the activities use (heartbeats, the details of the last
 * heartbeat, cancellation, pauses that end when cancelled), guarded so the same code runs outside an
 * activity (plain tests, the CLI) where `Context.current()` throws.
 */
import { Context } from '@temporalio/activity';
import { setTimeout as delay } from 'node:timers/promises';

/** The running activity's context, or undefined outside an activity. */
export function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Records progress; Temporal also delivers cancellation only to activities that heartbeat. */
export function heartbeat(details: unknown): void {
  currentContext()?.heartbeat(details);
}

/** The details of the last heartbeat of an earlier attempt of this activity, if any. */
export function lastHeartbeatDetails(): unknown {
  return currentContext()?.info.heartbeatDetails;
}

/** Aborts when Temporal cancels the activity; undefined outside an activity. */
export function cancellationSignal(): AbortSignal | undefined {
  return currentContext()?.cancellationSignal;
}

/**
 * Throws the cancellation reason when the signal has fired. Temporal sets a CancelledFailure as
 * the reason, and the worker reports the activity as cancelled only when that (or an AbortError)
 * leaves it.
 */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** The error to throw for an aborted signal. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The activity was cancelled', 'AbortError');
}

/** Waits `ms`, or ends early with the cancellation reason when the signal fires. */
export async function sleepUnlessCancelled(ms: number, signal?: AbortSignal): Promise<void> {
  throwIfCancelled(signal);
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    throw err;
  }
}
