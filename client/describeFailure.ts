/**
 * Turns the failure of a workflow run into the lines an operator reads: what failed (the messages along
 * the cause chain), the error type, the hint, and the step and host when known.
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { failureInfo, failureType } from '../common/errors';

/** Messages that say nothing beyond the error class; skipped in the chain. */
const GENERIC_MESSAGES = new Set(['Workflow execution failed', 'Activity task failed', 'Activity execution failed']);

/** The lines describing why a run failed, without trailing newlines. */
export function describeFailure(err: unknown): string[] {
  const messages: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current && depth < 8; depth++) {
    const message = chainMessage(current);
    if (message && !GENERIC_MESSAGES.has(message) && !messages.some((m) => m.includes(message))) messages.push(message);
    current = (current as { cause?: unknown }).cause;
  }
  const lines = [`failed: ${messages[0] ?? 'unknown error'}`];
  for (const cause of messages.slice(1)) lines.push(`  cause: ${cause}`);
  const type = failureType(err);
  if (type) lines.push(`  type: ${type}`);
  const info = failureInfo(err);
  if (info?.step) lines.push(`  step: ${info.step}`);
  if (info?.host) lines.push(`  host: ${info.host}`);
  if (info?.hint) lines.push(`  hint: ${info.hint}`);
  return lines;
}

function chainMessage(err: unknown): string | undefined {
  if (err instanceof TerminatedFailure) return `terminated${err.message && err.message !== 'Terminated' ? `: ${err.message}` : ''}`;
  if (err instanceof TimeoutFailure) return 'timed out';
  if (err instanceof CancelledFailure) return 'cancelled';
  if (err instanceof ActivityFailure) return err.activityType ? `activity ${err.activityType} failed` : undefined;
  if (err instanceof ApplicationFailure || err instanceof WorkflowFailedError || err instanceof Error) return err.message || undefined;
  return String(err);
}
