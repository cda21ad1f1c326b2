/**
 * The rules every bootstrap step follows: a step makes only what it owns (others find it, or say which
 * step to run), and a key upload or control-plane join holds the cluster's lock.
 */
import { patched } from '@temporalio/workflow';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { withClusterLock } from '../lock/withClusterLock';
import type { BootstrapContext } from './data';

/**
 * Whether steps own their work: only ensure-load-balancer creates the load balancer and only
 * init-primary runs kubeadm init; other steps find them (find-only activities) and fail when they are
 * missing. Runs recorded before called the ensure/init activities from any step and replay so.
 */
export function stepsOwnTheirWork(ctx: BootstrapContext): boolean {
  return !ctx.config.dryRun && patched('kubeha-steps-own-their-work');
}

/** A step needs what an earlier step makes, and it is not there: the run says which step to run. */
export function missing(what: string, owner: string): Error {
  return kubehaFailure({
    type: ErrorType.Conflict,
    message: `${what} does not exist: run ${owner} first`,
    retryable: false,
    hint: `run the bootstrap with the ${owner} step (leave it out of skipSteps, or add it to onlySteps); this step only reads and creates nothing`,
  });
}

/**
 * Runs a section that uploads a certificate key or joins a control plane while holding the cluster's
 * lock, so a scheduled key rotation never swaps the key under a running join. Runs recorded before
 * the lock existed replay without it.
 */
export function keySensitive<T>(ctx: BootstrapContext, purpose: string, fn: () => Promise<T>, step?: string, host?: string): Promise<T> {
  if (ctx.config.dryRun || !patched('kubeha-cluster-lock')) return fn();
  return withClusterLock(ctx.config.clusterName, purpose, fn, {
    // The lock is granted at once when free; the condition then lasts one signal round trip.
    onWaiting: (lockId) =>
      step &&
      host &&
      ctx.tracker.setHost(
        step,
        host,
        'waiting',
        'WaitingForClusterLock',
        `waiting for the cluster lock (a key upload or another control-plane join may hold it: query lockState of ${lockId})`,
      ),
  });
}
