/**
 * A pass repeated every interval until stopped, for the lab's polling controllers (the service mirror's
 * run loop, the pair's mesh runtime). The next pass starts an interval after the last one ended; a
 * pass that throws is reported and the loop goes on; `stop()` ends it after the pass under way.
 */

/** A running loop. */
export interface PollLoop<T> {
  /** The result of the next pass to finish without throwing. */
  nextPass(): Promise<T>;
  /** Ends the loop after the pass under way, if any. */
  stop(): Promise<void>;
}

/** Starts the loop; the first pass starts at once. */
export function startPollLoop<T>(pass: () => Promise<T>, intervalMs: number, onError?: (err: Error) => void): PollLoop<T> {
  let stopped = false;
  let wake: (() => void) | undefined;
  let waiters: Array<(result: T) => void> = [];
  const loop = (async () => {
    while (!stopped) {
      try {
        const result = await pass();
        const done = waiters;
        waiters = [];
        done.forEach((resolve) => resolve(result));
      } catch (err) {
        onError?.(err as Error);
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    nextPass: () => new Promise((resolve) => waiters.push(resolve)),
    stop: async () => {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
