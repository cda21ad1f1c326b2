/**
 * Heartbeats, cancellation and pauses that work both inside a Temporal activity and in plain code
 * (tests, the CLI), where `Context.current()` throws.
 */
import { Context } from '@temporalio/activity';
import { setTimeout as sleep } from 'node:timers/promises';

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Records a heartbeat with `details` when running as an activity; a no-op otherwise. */
export function heartbeat(details: unknown): void {
  currentContext()?.heartbeat(details);
}

/** The activity's cancellation signal, or undefined outside an activity. */
export function cancellationSignal(): AbortSignal | undefined {
  return currentContext()?.cancellationSignal;
}

/**
 * Waits `ms`, or throws the cancellation reason (Temporal's CancelledFailure) as soon as `signal`
 * aborts, so that a cancelled wait ends at once.
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  }
}
