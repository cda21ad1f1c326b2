/**
 * Step return-spare: when the survivor was a spare, it leaves the load balancer again once every
 * control plane of the input is a healthy target, so the cluster is back in the input's shape (and
 * FailoverToEast can bring the spare in at the next incident). Never while a control plane is unhealthy.
 */
import { ErrorType, kubehaFailure } from '../../common/errors';
import { loadBalancer, targetOf } from '../bootstrap/loadBalancer';
import { aws } from '../engine/activities';
import type { RecoverContext } from './data';

export function returnSpareSkipReason(ctx: RecoverContext): string | undefined {
  if (ctx.stop) return `nothing restored (${ctx.stop.outcome})`;
  if (ctx.survivor && ctx.survivor.role !== 'spare-control-plane') return `${ctx.survivor.name} is a control plane: it stays in the load balancer`;
  return undefined;
}

export async function returnSpareStep(ctx: RecoverContext): Promise<void> {
  const spare = ctx.survivor;
  if (!spare) return;
  const lb = await loadBalancer(ctx.cluster);
  const targets = await aws.describeTargetHealth({ aws: ctx.config.cluster.aws, targetGroupArn: lb.targetGroupArn });
  const controlPlanes = ctx.config.cluster.hosts.filter((h) => h.role === 'control-plane');
  const unhealthy = controlPlanes.filter((h) => !targets.some((t) => t.ip === h.address && t.state === 'healthy'));
  if (unhealthy.length) {
    throw kubehaFailure({
      type: ErrorType.NotReady,
      message: `${unhealthy.map((h) => h.name).join(', ')} not healthy in the target group: the spare keeps serving`,
      retryable: true,
      hint: 'signal "retry" once every control plane is a healthy target',
    });
  }
  const { deregistered } = await aws.deregisterTarget.executeWithOptions({ summary: `take spare ${spare.name} out of the load balancer` }, [
    targetOf(ctx.cluster, lb, spare),
  ]);
  ctx.tracker.setStep(
    'return-spare',
    'running',
    deregistered ? 'SpareReturned' : 'SpareAlreadyOut',
    `${spare.name} is a spare again (etcd voter, out of the load balancer)`,
  );
}
