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

/** The details each running activity last heartbeated, re-sent by {@link withLiveness}'s ticker. */
const lastDetails = new WeakMap<Context, { details: unknown }>();

/** Records progress; Temporal also delivers cancellation only to activities that heartbeat. */
export function heartbeat(details: unknown): void {
  const context = currentContext();
  if (context) heartbeatOn(context, details);
}

/** {@link heartbeat} on a context captured earlier (stream callbacks). */
export function heartbeatOn(context: Context, details: unknown): void {
  lastDetails.set(context, { details });
  context.heartbeat(details);
}

/** Marks the functions {@link withLiveness} made (the worker's tests check every activity has it). */
export const LIVENESS = Symbol('kubeha.liveness');

/** How often {@link withLiveness} heartbeats: well inside the workflows' 10 s heartbeat timeouts. */
export const LIVENESS_INTERVAL_MS = 2000;

/**
 * Wraps every activity so that it heartbeats every {@link LIVENESS_INTERVAL_MS} while it runs, repeating
 * the details it last reported (or, before its first report, those of the attempt before it, which a
 * resuming activity reads). A live worker therefore always heartbeats, and the workflows can use short
 * heartbeat timeouts: when a worker dies, Temporal retries its activities on another worker within
 * seconds instead of waiting out a long timeout.
 */
export function withLiveness<T extends object>(activities: T, everyMs = LIVENESS_INTERVAL_MS): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') continue;
    const live = async (...args: unknown[]) => {
      const context = currentContext();
      if (!context) return (fn as (...a: unknown[]) => unknown)(...args);
      if (!lastDetails.has(context) && context.info.heartbeatDetails !== undefined) lastDetails.set(context, { details: context.info.heartbeatDetails });
      const ticker = setInterval(() => context.heartbeat(lastDetails.get(context)?.details), everyMs);
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } finally {
        clearInterval(ticker);
      }
    };
    Object.defineProperty(live, LIVENESS, { value: true });
    wrapped[name] = live;
  }
  return wrapped as T;
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
