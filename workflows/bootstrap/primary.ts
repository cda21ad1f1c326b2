/** Steps init-primary and wait-target-healthy: the first control plane, behind the load balancer. */
import { aws } from '../engine/activities';
import { initPrimary } from './cluster';
import type { BootstrapContext } from './data';
import { waitHealthy } from './hostChecks';
import { endpointOf, loadBalancer, targetOf } from './loadBalancer';

export async function initPrimaryStep(ctx: BootstrapContext): Promise<void> {
  const lb = await loadBalancer(ctx);
  const step = 'init-primary';
  // kubeadm >= 1.34.2 checks the endpoint during init (kubeadm issue 3294): the target goes in first.
  const { registered } = await aws.registerTarget.executeWithOptions({ summary: `register ${ctx.primary.name} in the target group` }, [
    targetOf(ctx, lb, ctx.primary),
  ]);
  ctx.tracker.setHost(step, ctx.primary.name, 'running', registered ? 'TargetRegistered' : 'TargetAlreadyRegistered');
  const init = await initPrimary(ctx);
  ctx.tracker.setHost(
    step,
    ctx.primary.name,
    'done',
    init.alreadyInitialized ? 'AlreadyInitialized' : 'Initialized',
    `control-plane endpoint ${endpointOf(lb)}`,
  );
}

export async function waitPrimaryHealthy(ctx: BootstrapContext): Promise<void> {
  await waitHealthy(ctx, 'wait-target-healthy', ctx.primary);
  ctx.tracker.setHost('wait-target-healthy', ctx.primary.name, 'done', 'TargetHealthy');
}
