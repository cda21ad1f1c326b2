/**
 * Activity proxies of FailoverToEast. A failover is urgent: quick calls get short timeouts and quick
 * retries, so that a dead API server is reported in seconds, not minutes. Load balancer targets and
 * etcd members go through the shared AWS and host proxies (workflows/engine/activities.ts).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { FailoverActivities } from '../../activities/failover/types';
import { ErrorType, NON_RETRYABLE_TYPES } from '../../common/errors';

const quickRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  maximumAttempts: 4,
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES, ErrorType.VerificationFailed],
};

/** Readiness and split calls against the clusters' API servers. */
export const failover = proxyActivities<FailoverActivities>({
  startToCloseTimeout: '45 seconds',
  retry: quickRetry,
});

/**
 * Health probes during the failback window: one attempt each, since the window itself is the retry
 * (a failed probe just means "not healthy yet").
 */
export const probes = proxyActivities<FailoverActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});
