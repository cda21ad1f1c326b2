/**
 * Failures a test injects into FakeWorld's activity stubs: which call throws, and errors shaped as a
 * real activity's (retryable or not).
 */
import { ApplicationFailure } from '@temporalio/common';

/** A failure to inject: the Nth call of an activity (optionally for one host) throws. */
export interface Injection {
  activity: string;
  host?: string;
  /** Throw on this many matching calls, then behave. Default 1. */
  times?: number;
  error: () => Error;
}

/** A non-retryable failure to inject, as a real activity would throw it. */
export function permanentFailure(message: string): () => Error {
  return () => ApplicationFailure.nonRetryable(message, 'CommandFailed', { hint: 'injected by the test' });
}

/** A retryable failure to inject (Temporal retries it by itself). */
export function transientFailure(message: string): () => Error {
  return () => ApplicationFailure.retryable(message, 'Unreachable', { hint: 'injected by the test' });
}
