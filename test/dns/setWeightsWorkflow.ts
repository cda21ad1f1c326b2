/**
 * A test-only workflow: one setGtmWeights through proxyActivities with a retry policy like the
 * failover's (quick backoff, a few attempts, kubeha's non-retryable types) and a heartbeat timeout, so
 * the Route 53 activity's retries and resumption run through a real Temporal server.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { DnsActivities, GtmChange } from '../../activities/dns/route53';
import { NON_RETRYABLE_TYPES } from '../../common/errors';

const dns = proxyActivities<DnsActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '100 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '1 second',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
});

/** Sets the weights of one record pair. */
export async function setWeightsOnce(input: Parameters<DnsActivities['setGtmWeights']>[0]): Promise<GtmChange> {
  return dns.setGtmWeights(input);
}
