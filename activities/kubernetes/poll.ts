/**
 * The waiting loop of the Kubernetes activities: check, heartbeat what is awaited, pause, until done
 * or the deadline. The deadline belongs to the wait the workflow asked for; errors of a check end the
 * wait at once (the activity's retry policy decides what happens next).
 */
import { heartbeat, sleepUnlessCancelled } from '../activityContext';

/** The answer of one check. */
export type PollResult<T, P> = { done: true; value: T } | { done: false; progress: P };

/** Knobs of {@link pollUntil}. */
export interface PollOptions<T, P> {
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
  check: () => Promise<PollResult<T, P>>;
  /** Builds the error thrown at the deadline from the last progress. */
  onDeadline: (progress: P, waitedMs: number) => Error;
}

/** Runs `check` until it is done; heartbeats `{ waitedSeconds, progress }` after every check. */
export async function pollUntil<T, P>(options: PollOptions<T, P>): Promise<T> {
  const started = Date.now();
  for (;;) {
    const result = await options.check();
    if (result.done) return result.value;
    const waitedMs = Date.now() - started;
    heartbeat({ waitedSeconds: Math.round(waitedMs / 1000), progress: result.progress });
    if (waitedMs >= options.timeoutMs) throw options.onDeadline(result.progress, waitedMs);
    await sleepUnlessCancelled(Math.min(options.intervalMs, Math.max(options.timeoutMs - waitedMs, 1)), options.signal);
  }
}
