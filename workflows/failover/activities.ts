/**
 * Activity proxies of FailoverToEast. A failover is urgent: quick calls get short timeouts and quick
 * retries, so that a dead API server is reported in seconds, not minutes. Load balancer targets go
 * through the shared AWS proxies (workflows/engine/activities.ts).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { FailoverActivities } from '../../activities/failover/types';
import type { DnsActivities } from '../../activities/dns/types';
import type { HostActivities } from '../../activities/types';
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

/**
 * etcd asked with a short retry: a cluster that lost quorum does not answer `member list` at all (etcd
 * 3.5+ makes it linearizable), and the failover must not wait minutes on it before moving traffic.
 */
export const etcdProbe = proxyActivities<Pick<HostActivities, 'etcdMembers'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '2 seconds', maximumAttempts: 2 },
});

/**
 * Route 53 calls. A weight change waits until Route 53 reports it INSYNC (seconds on AWS, five minutes
 * at most): a long start-to-close, and the short heartbeat timeout of every kubeha activity (they heartbeat every 2 s)
 * so a lost worker is noticed at once; throttling and 5xx are retried with backoff.
 */
export const dns = proxyActivities<DnsActivities>({
  startToCloseTimeout: '6 minutes',
  heartbeatTimeout: '10 seconds',
  // A change still propagating when the wait ends is retried: the next attempt waits on the same change.
  retry: { ...quickRetry, maximumAttempts: 6, nonRetryableErrorTypes: quickRetry.nonRetryableErrorTypes?.filter((t) => t !== ErrorType.DeadlineExceeded) },
});

/**
 * West's API asked once before its split moves: two quick attempts. When it does not answer, its split
 * is left out (its in-mesh clients went down with it) and the shift goes on without waiting for it.
 */
export const westCheck = proxyActivities<FailoverActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '2 seconds', maximumAttempts: 2, nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES] },
});
