/**
 * The step table every kubeha workflow is made of, after kubeadm's phase runner: named steps run in
 * order, each selectable by `onlySteps` / `skipSteps`, each error naming its step. When a step fails
 * the run does not throw its progress away: it waits for an operator's `retry` (run the step again,
 * after fixing the cause) or `abort` signal, so the next attempt resumes exactly there.
 */
import { ApplicationFailure, condition, ContinueAsNew, defineSignal, isCancellation, log, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { ErrorType, failureInfo, failureType } from '../../common/errors';
import type { ProgressTracker } from './progress';

/** One named step of a workflow. */
export interface Step<C> {
  name: string;
  /** One line on what the step does and how it knows it is done. */
  description: string;
  /** Checks the world, acts only where needed, verifies after. Throws to fail the step. */
  run(context: C): Promise<void>;
  /** A reason to skip the step in this run (e.g. dry run), or undefined to run it. */
  skipReason?(context: C): string | undefined;
}

/** What to do when a step fails after its activities' own retries. */
export interface FailurePolicy {
  /** `wait`: hold the run for an operator's retry/abort signal; `fail`: fail the run at once. */
  onFailure: 'wait' | 'fail';
  /** How long to wait for the operator before failing. */
  operatorTimeoutMinutes: number;
}

/** Which steps run: all but `skipSteps`, or only `onlySteps`. */
export interface StepSelection {
  onlySteps?: readonly string[];
  skipSteps: readonly string[];
  /** Steps an earlier run of the same workflow finished (before continue-as-new): left as they are. */
  doneEarlier?: readonly string[];
}

/** Signal: run the failed step again. */
export const retrySignal = defineSignal('retry');
/** Signal: stop the run (with a reason) instead of retrying the failed step. */
export const abortSignal = defineSignal<[reason?: string]>('abort');

/** The operator's answers to a failed step, kept by signal handlers. */
class OperatorChannel {
  private retries = 0;
  private abortReason: string | undefined;

  constructor() {
    setHandler(retrySignal, () => {
      this.retries += 1;
    });
    setHandler(abortSignal, (reason?: string) => {
      this.abortReason = reason ?? 'aborted by operator';
    });
  }

  /** Waits for retry or abort; returns 'retry', 'abort' or 'timeout'. */
  async await(timeout: Duration): Promise<{ answer: 'retry' | 'abort' | 'timeout'; reason?: string }> {
    const before = this.retries;
    const answered = await condition(() => this.retries > before || this.abortReason !== undefined, timeout);
    if (this.abortReason !== undefined) return { answer: 'abort', reason: this.abortReason };
    return { answer: answered ? 'retry' : 'timeout' };
  }
}

/** The innermost message of a failure chain: the activity's own words, not the wrapper's. */
export function rootMessage(err: unknown): string {
  let current: unknown = err;
  let message = String((err as Error)?.message ?? err);
  for (let depth = 0; current && depth < 8; depth++) {
    const m = (current as Error).message;
    if (m) message = m;
    current = (current as { cause?: unknown }).cause;
  }
  return message;
}

/**
 * Runs a step table with selection, progress and the failure policy (the workflow's validated input
 * carries both). A failure ends the run in phase `failed`; continue-as-new is not a failure.
 */
export async function runStepTable<C>(steps: readonly Step<C>[], context: C, tracker: ProgressTracker, options: StepSelection & FailurePolicy): Promise<void> {
  const operator = new OperatorChannel();
  tracker.setPhase('running');
  try {
    await runSteps(steps, context, tracker, options, operator);
  } catch (err) {
    if (!(err instanceof ContinueAsNew)) tracker.setPhase('failed');
    throw err;
  }
}

async function runSteps<C>(
  steps: readonly Step<C>[],
  context: C,
  tracker: ProgressTracker,
  options: StepSelection & FailurePolicy,
  operator: OperatorChannel,
): Promise<void> {
  for (const step of steps) {
    if (options.doneEarlier?.includes(step.name)) continue;
    if (options.onlySteps && !options.onlySteps.includes(step.name)) {
      tracker.setStep(step.name, 'skipped', 'NotSelected', 'not in onlySteps');
      continue;
    }
    if (options.skipSteps.includes(step.name)) {
      tracker.setStep(step.name, 'skipped', 'SkippedByInput', 'listed in skipSteps');
      continue;
    }
    const skip = step.skipReason?.(context);
    if (skip) {
      tracker.setStep(step.name, 'skipped', 'NotNeeded', skip);
      continue;
    }
    for (;;) {
      tracker.setStep(step.name, 'running');
      try {
        await step.run(context);
        tracker.setStep(step.name, 'done', 'Succeeded', tracker.step(step.name).message);
        break;
      } catch (err) {
        // Cancellation and continue-as-new end the run as they are, not as a failure of the step.
        if (isCancellation(err) || err instanceof ContinueAsNew) throw err;
        const type = failureType(err) ?? 'Error';
        const message = rootMessage(err);
        const hint = failureInfo(err)?.hint ?? 'see the failure in the run history';
        tracker.setStep(step.name, 'failed', type, message);
        log.warn('step failed', { step: step.name, type, message });
        if (options.onFailure === 'wait' && type !== ErrorType.InvalidInput) {
          tracker.setPhase(
            'waiting',
            `operator: step ${step.name} failed (${type}: ${message}). Hint: ${hint}. Signal "retry" to run it again, or "abort" to stop.`,
          );
          const { answer, reason } = await operator.await(`${options.operatorTimeoutMinutes} minutes`);
          if (answer === 'retry') {
            tracker.setPhase('running');
            continue;
          }
          throw stepFailure(
            step.name,
            type,
            answer === 'abort' ? `${message} (then aborted: ${reason})` : `${message} (no operator answer in time)`,
            hint,
            err,
          );
        }
        throw stepFailure(step.name, type, message, hint, err);
      }
    }
  }
}

function stepFailure(step: string, type: string, message: string, hint: string, cause: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.StepFailed,
    message: `step ${step} failed: ${type}: ${message}`,
    nonRetryable: true,
    details: [{ hint, step, causeType: type }],
    cause: cause instanceof Error ? cause : undefined,
  });
}

/**
 * Runs `fn` over `items` with at most `limit` at once, in a replay-safe way. Waits for every started
 * call to settle before throwing the first error, so no activity is left running unobserved.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const errors: unknown[] = [];
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (err) {
        errors.push(err);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (errors.length > 0) throw errors[0];
  return results;
}
