/**
 * What every kind of crash point does the same way: wait for a run's result with its failure chain
 * written out, and kill the worker while recording what it held and how long the replacement took.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Arena } from './arena';
import { inFlightOf, nextProgress } from './observe';
import type { PointResult } from './runPoint';

const RUN_TIMEOUT_MS = 20 * 60_000;

/** Waits for the run's result, the failure chain written out when it failed. */
export async function outcome<T>(handle: WorkflowHandle, timeoutMs = RUN_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms`)), timeoutMs)));
  try {
    return (await Promise.race([handle.result(), timeout])) as T;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new Error(`the run failed: ${failureChain(err)}`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The messages along a failure's cause chain, innermost last, with the innermost details (hint, output tail). */
function failureChain(err: unknown): string {
  const messages: string[] = [];
  let details: unknown;
  for (let current = err as { message?: string; cause?: unknown; details?: unknown } | undefined, depth = 0; current && depth < 10; depth++) {
    if (current.message) messages.push(current.message);
    if (Array.isArray(current.details) && current.details.length) details = current.details;
    current = current.cause as typeof current;
  }
  return `${messages.join(' <- ')}${details ? ` details: ${JSON.stringify(details).slice(0, 1200)}` : ''}`;
}

/** Kills the worker now; records what it held; starts a replacement and measures the resume. */
export async function killAndResume(arena: Arena, handle: WorkflowHandle, result: PointResult): Promise<void> {
  const killedIdentity = arena.identity;
  const killedAt = await arena.killWorker();
  const held = await inFlightOf(handle, killedIdentity);
  result.inFlight = held.activity ? `${held.activity.type} #${held.activity.attempt}` : 'no activity';
  result.bound = held.bound;
  result.boundMs = held.boundMs;
  const { identity, readyMs } = await arena.startWorker();
  result.workerReadyMs = readyMs;
  result.resumeMs = await nextProgress(handle, killedAt, identity);
}
