/**
 * Waiting for a load balancer AWS is still provisioning, within one activity attempt: the attempt
 * heartbeats while it waits and fails retryable at its time limit, so the next attempt goes on waiting.
 */
import type { LoadBalancer } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { cancellationSignal, heartbeat } from '../activityContext';
import { conflict } from './checks';
import type { AwsClients } from './clients';
import type { ResolvedAwsDependencies } from './dependencies';
import { findLoadBalancer } from './lookups';

/**
 * Waits (heartbeating) until the load balancer is active. AWS takes minutes; one attempt waits at
 * most `loadBalancerActiveTimeoutSeconds`, then fails retryable so the next attempt goes on.
 */
export async function waitUntilActive(deps: ResolvedAwsDependencies, clients: AwsClients, arn: string, notes: string[]): Promise<LoadBalancer> {
  const started = deps.clock.now();
  let sawProvisioning = false;
  for (;;) {
    const lb = await findLoadBalancer(clients, { arn });
    if (!lb) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        retryable: true,
        message: `load balancer ${arn} disappeared while kubeha waited for it`,
        hint: 'Someone deleted it; the next attempt creates it again.',
      });
    }
    const state = lb.State?.Code ?? 'unknown';
    const waitedSeconds = Math.floor((deps.clock.now() - started) / 1000);
    if (state === 'active' || state === 'active_impaired') {
      if (sawProvisioning) notes.push(`load balancer was provisioning; ${state} after ${waitedSeconds} s`);
      return lb;
    }
    if (state === 'failed') {
      throw conflict({
        object: `load balancer "${lb.LoadBalancerName}"`,
        field: 'State',
        expected: 'active',
        actual: 'failed',
        hint: `AWS could not provision it (${lb.State?.Reason ?? 'no reason given'}). Delete it and run again.`,
      });
    }
    sawProvisioning = true;
    if (waitedSeconds >= deps.loadBalancerActiveTimeoutSeconds) {
      throw kubehaFailure({
        type: ErrorType.NotReady,
        retryable: true,
        message: `load balancer "${lb.LoadBalancerName}" is still ${state} after ${waitedSeconds} s`,
        hint: 'A new NLB usually needs a few minutes; the next attempt keeps waiting. If it stays provisioning, check the subnets and the account in the AWS console.',
        details: { state, waitedSeconds },
      });
    }
    heartbeat({ loadBalancer: lb.LoadBalancerName, state, waitedSeconds });
    await deps.clock.sleep(deps.loadBalancerPollSeconds * 1000, cancellationSignal());
  }
}
