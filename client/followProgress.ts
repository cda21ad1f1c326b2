/**
 * Follows a running workflow: asks its `progress` query every second and draws the step list, until
 * the run closes. On a terminal the list is redrawn in place; otherwise only changed lines are printed,
 * so a log keeps every change once.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isGrpcDeadlineError, type WorkflowHandle } from '@temporalio/client';
import { PROGRESS_QUERY, type Progress } from '../common/progress';
import { changedLines, eraseLines, fitToWidth, renderProgress } from './renderProgress';

/** Where a progress view writes. */
export interface ViewOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Draws successive frames of a run's progress. */
export interface ProgressView {
  /** Shows a new progress. */
  update(progress: Progress): void;
  /** Shows a one-line notice under the list (replaced by the next notice; empty clears it). */
  notice(text: string): void;
}

/** A view for `out`: in-place redraw on a TTY, changed lines otherwise. */
export function createProgressView(out: ViewOutput, options: { color?: boolean } = {}): ProgressView {
  if (out.isTTY) {
    let drawnRows = 0;
    let frame: string[] = [];
    let note = '';
    let drawn = '';
    const draw = (): void => {
      // A pseudo-terminal may report 0 columns.
      const columns = out.columns || 80;
      // Wrapped here, at the terminal's width, so long reasons and hints stay readable and the
      // redraw knows exactly how many rows it printed.
      const lines = fitToWidth(note ? [...frame, note] : frame, columns);
      const text = lines.map((l) => `${l}\n`).join('');
      // An unchanged frame is not redrawn: no flicker once a second.
      if (text === drawn) return;
      out.write(eraseLines(drawnRows) + text);
      drawn = text;
      drawnRows = lines.length;
    };
    return {
      update(progress) {
        frame = renderProgress(progress, { color: options.color });
        note = '';
        draw();
      },
      notice(text) {
        if (text === note) return;
        note = text;
        draw();
      },
    };
  }
  let previous: string[] = [];
  let lastNotice = '';
  return {
    update(progress) {
      const lines = renderProgress(progress, { flat: true });
      for (const line of changedLines(previous, lines)) out.write(`${line}\n`);
      previous = lines;
      lastNotice = '';
    },
    notice(text) {
      if (text && text !== lastNotice) out.write(`${text}\n`);
      lastNotice = text;
    },
  };
}

/** How {@link followWorkflow} polls. */
export interface FollowOptions {
  /** Between two queries. Default 1000 ms. */
  intervalMs?: number;
  /** How long one query may wait for a worker. Default 5000 ms. */
  queryTimeoutMs?: number;
  /** Stops following (the workflow goes on). */
  signal?: AbortSignal;
}

/** How following ended. */
export type FollowOutcome = { kind: 'completed'; result: unknown } | { kind: 'failed'; error: unknown } | { kind: 'stopped' };

/**
 * Asks the progress query of `handle` as long as the run is open, feeding `view`, and returns how the
 * run ended (or `stopped` when `signal` aborted first). The last frame is drawn after the run closed.
 */
export async function followWorkflow(handle: WorkflowHandle, view: ProgressView, options: FollowOptions = {}): Promise<FollowOutcome> {
  const intervalMs = options.intervalMs ?? 1000;
  let outcome: FollowOutcome | undefined;
  const closed = handle.result().then(
    (result): FollowOutcome => (outcome = { kind: 'completed', result }),
    (error: unknown): FollowOutcome => (outcome = { kind: 'failed', error }),
  );
  const aborted = new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  while (!outcome && !options.signal?.aborted) {
    await refresh(handle, view, options.queryTimeoutMs ?? 5000);
    await pause(intervalMs, closed, aborted);
  }
  if (options.signal?.aborted && !outcome) return { kind: 'stopped' };
  await refresh(handle, view, options.queryTimeoutMs ?? 5000);
  return outcome ?? (await closed);
}

/** Waits `ms`, or less when one of `wakers` settles first; the timer never outlives the wait. */
async function pause(ms: number, ...wakers: Promise<unknown>[]): Promise<void> {
  const timer = new AbortController();
  try {
    await Promise.race([delay(ms, undefined, { signal: timer.signal }).catch(() => undefined), ...wakers]);
  } finally {
    timer.abort();
  }
}

/** One query; a silent worker or a run that has not registered its query yet becomes a notice. */
async function refresh(handle: WorkflowHandle, view: ProgressView, timeoutMs: number): Promise<void> {
  try {
    const progress = await handle.client.connection.withDeadline(Date.now() + timeoutMs, () => handle.query<Progress>(PROGRESS_QUERY));
    view.update(progress);
  } catch (err) {
    view.notice(`(no progress yet: ${queryProblem(err, timeoutMs)})`);
  }
}

/** Why a progress query got no answer, in words. */
export function queryProblem(err: unknown, timeoutMs: number): string {
  // The client wraps the gRPC error ("Failed to query Workflow"): the reason is further down the chain.
  let current: unknown = err;
  let innermost = err instanceof Error ? err.message : String(err);
  for (let depth = 0; current && depth < 8; depth++) {
    if (isGrpcDeadlineError(current) || /deadline exceeded/i.test((current as Error).message ?? '')) {
      return `no worker answered within ${Math.round(timeoutMs / 1000)} s; is one running? start it with \`kubeha worker\``;
    }
    if (current instanceof Error && current.message) innermost = current.message;
    current = (current as { cause?: unknown }).cause;
  }
  return innermost;
}
