/**
 * The load balancer: made by step ensure-load-balancer, found by the steps that only use it, and the
 * targets control planes are registered as.
 */
import type { LoadBalancerInfo, TargetRef } from '../../activities/types';
import type { HostSpec } from '../../common/inputs/shared';
import { aws } from '../engine/activities';
import type { BootstrapContext } from './data';
import { missing, stepsOwnTheirWork } from './rules';

/** Step ensure-load-balancer. */
export async function ensureLoadBalancerStep(ctx: BootstrapContext): Promise<void> {
  const lb = await ensureLoadBalancer(ctx);
  const created = Object.entries(lb.created)
    .filter(([, v]) => v)
    .map(([k]) => k);
  ctx.tracker.setStep(
    'ensure-load-balancer',
    'running',
    created.length ? 'Created' : 'AlreadyPresent',
    created.length ? `created ${created.join(', ')}` : `found ${lb.dnsName}`,
  );
}

function loadBalancerInput(ctx: BootstrapContext) {
  return { clusterName: ctx.config.clusterName, aws: ctx.config.aws, loadBalancer: ctx.config.loadBalancer, dryRun: ctx.config.dryRun };
}

/** ensure-load-balancer's own work: find or create the load balancer. */
async function ensureLoadBalancer(ctx: BootstrapContext): Promise<LoadBalancerInfo> {
  ctx.lb = await aws.ensureLoadBalancer.executeWithOptions({ summary: `find or create load balancer ${ctx.config.loadBalancer.name}` }, [
    loadBalancerInput(ctx),
  ]);
  ctx.tracker.setFact('load balancer', ctx.lb.dnsName);
  return ctx.lb;
}

/** The load balancer, for steps that only use it: found, never created. */
export async function loadBalancer(ctx: BootstrapContext): Promise<LoadBalancerInfo> {
  if (ctx.lb) return ctx.lb;
  if (!stepsOwnTheirWork(ctx)) return ensureLoadBalancer(ctx);
  const found = await aws.findLoadBalancer.executeWithOptions({ summary: `find load balancer ${ctx.config.loadBalancer.name}` }, [loadBalancerInput(ctx)]);
  if (!found) throw missing(`load balancer ${ctx.config.loadBalancer.name}`, 'ensure-load-balancer');
  ctx.lb = found;
  ctx.tracker.setFact('load balancer', found.dnsName);
  return found;
}

export function endpointOf(lb: LoadBalancerInfo): string {
  return `${lb.dnsName}:6443`;
}

export function targetOf(ctx: BootstrapContext, lb: LoadBalancerInfo, host: HostSpec): TargetRef {
  return { aws: ctx.config.aws, targetGroupArn: lb.targetGroupArn, ip: host.address, port: 6443 };
}
