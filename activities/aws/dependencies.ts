/**
 * What the AWS activities are built from: a client factory, a clock, and polling settings.
 */
import type { AwsClientFactory } from './clients';
import { sleepUnlessCancelled } from '../activityContext';

/** Time as the activities see it; tests pass a clock that jumps instead of waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Waits, or rejects with the cancellation reason when the signal fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now(), sleep: sleepUnlessCancelled };

/** The dependencies of `createAwsActivities`. */
export interface AwsActivityDependencies {
  /** The SDK clients for the input's region and endpoint; `defaultAwsClients` in the worker. */
  clientsFor: AwsClientFactory;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** Seconds between looks at a load balancer that is still provisioning. Default 10. */
  loadBalancerPollSeconds?: number;
  /**
   * How long one attempt of ensureLoadBalancer waits for `provisioning` to end before it fails
   * with a retryable NotReady (the next attempt keeps waiting). Default 120, which stays inside
   * the activity's start-to-close timeout; AWS usually needs a few minutes.
   */
  loadBalancerActiveTimeoutSeconds?: number;
}

/** The dependencies with every default filled in. */
export type ResolvedAwsDependencies = Required<AwsActivityDependencies>;

/** Fills in the defaults. */
export function resolveDependencies(deps: AwsActivityDependencies): ResolvedAwsDependencies {
  return {
    clientsFor: deps.clientsFor,
    clock: deps.clock ?? systemClock,
    loadBalancerPollSeconds: deps.loadBalancerPollSeconds ?? 10,
    loadBalancerActiveTimeoutSeconds: deps.loadBalancerActiveTimeoutSeconds ?? 120,
  };
}
