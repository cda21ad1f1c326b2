/** What a joined host must be before its step moves on: a healthy target, a Ready node, a voting etcd member. */
import { sleep } from '@temporalio/workflow';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { aws, hosts, waits } from '../engine/activities';
import { initialized } from './cluster';
import type { BootstrapContext } from './data';
import { loadBalancer, targetOf } from './loadBalancer';

export async function waitHealthy(ctx: BootstrapContext, step: string, host: HostSpec): Promise<void> {
  const lb = await loadBalancer(ctx);
  ctx.tracker.setHost(step, host.name, 'waiting', 'WaitingTargetHealthy', `target ${host.address}:6443 not healthy yet`);
  const { state, waitedSeconds } = await waits.waitTargetHealthy.executeWithOptions({ summary: `wait until ${host.name} is healthy in the target group` }, [
    { ...targetOf(ctx, lb, host), deadlineSeconds: ctx.config.loadBalancer.targetGroup.healthyDeadlineSeconds },
  ]);
  ctx.tracker.setHost(step, host.name, 'running', 'TargetHealthy', `target ${state} after ${waitedSeconds} s`);
}

export async function waitNodeReady(ctx: BootstrapContext, step: string, host: HostSpec): Promise<void> {
  const init = await initialized(ctx);
  ctx.tracker.setHost(step, host.name, 'waiting', 'WaitingNodeReady', 'Node not Ready yet');
  await waits.waitNodeReady.executeWithOptions({ summary: `wait until node ${host.name} is Ready` }, [
    { kubeconfigSecret: init.kubeconfigSecret, nodeName: host.name, timeoutSeconds: 600 },
  ]);
}

/** Verifies the host is a started, healthy, voting etcd member; waits a little for a learner's promotion. */
export async function waitEtcdMember(ctx: BootstrapContext, step: string, host: HostSpec): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const members = await hosts.etcdMembers.executeWithOptions({ summary: `etcd members via ${ctx.primary.name}` }, [{ host: ctx.primary }]);
    const member = members.find((m) => m.name === host.name);
    const unhealthy = members.filter((m) => !m.healthy).length;
    const problem = !member
      ? 'is not an etcd member'
      : member.isLearner
        ? 'is still an etcd learner (not yet promoted)'
        : !member.healthy
          ? 'is an unhealthy etcd member'
          : unhealthy > 0
            ? `joined, but etcd has ${unhealthy} unhealthy member(s)`
            : undefined;
    if (!problem) return;
    if (attempt >= 12) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        message: `${host.name} ${problem}`,
        retryable: false,
        hint: `look at etcd on ${host.name} (journal of the etcd static pod) and at the member list; a stale member needs "etcdctl member remove" and "kubeadm reset -f" (retry the step: kubeha repairs it)`,
        details: { host: host.name },
      });
    }
    ctx.tracker.setHost(step, host.name, 'waiting', 'WaitingEtcdMember', `${host.name} ${problem}`);
    await sleep('5 seconds');
  }
}

/** Makes sure a spare is NOT in the target group: spares are voters held back for failover. */
export async function assertNotRegistered(ctx: BootstrapContext, host: HostSpec): Promise<void> {
  const lb = await loadBalancer(ctx);
  const health = await aws.describeTargetHealth({ aws: ctx.config.aws, targetGroupArn: lb.targetGroupArn });
  if (health.some((t) => t.ip === host.address)) {
    throw kubehaFailure({
      type: ErrorType.Conflict,
      message: `spare ${host.name} (${host.address}) is registered in the target group`,
      retryable: false,
      hint: 'a spare is kept out of the load balancer; deregister it by hand if it was added by mistake, or give it role "control-plane"',
      details: { host: host.name },
    });
  }
}
