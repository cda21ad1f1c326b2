/**
 * Activity proxies with the timeouts and retry policies each kind of work needs. Workflows import
 * activity TYPES only; the worker registers the implementations.
 *
 * Heartbeat timeouts bound how long a crashed worker's activity stays "running" before Temporal
 * retries it elsewhere: that is what makes a resume after a worker crash quick. Every activity
 * heartbeats every 2 s while it runs (activities/activityContext.ts withLiveness), so 10 s is safe for
 * all of them and a dead worker's activity starts again on another one in about 12 s (10 s + the
 * first retry's 2 s).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { AwsActivities, HostActivities, KubernetesActivities } from '../../activities/types';
import { ErrorType, NON_RETRYABLE_TYPES } from '../../common/errors';

/** The retry policy of every proxy unless it says otherwise: 8 attempts, backing off from 2 s to 1 minute. */
export const defaultRetry: RetryPolicy = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
  nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
};

/** Quick AWS API calls. */
export const aws = proxyActivities<AwsActivities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '10 seconds',
  retry: defaultRetry,
});

/** Commands on hosts over SSH. A join whose credentials kubeadm rejects is not retried as is: the workflow refreshes them first. */
export const hosts = proxyActivities<HostActivities>({
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...defaultRetry, maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES, ErrorType.CredentialExpired] },
});

/** Kubernetes API calls. */
export const kube = proxyActivities<KubernetesActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: defaultRetry,
});

/** Long waits that poll and heartbeat (target health, rollouts, Node Ready); their own deadlines end them. */
export const waits = proxyActivities<AwsActivities & KubernetesActivities>({
  startToCloseTimeout: '65 minutes',
  heartbeatTimeout: '10 seconds',
  retry: defaultRetry,
});
