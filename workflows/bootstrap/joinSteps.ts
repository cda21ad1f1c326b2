/** Steps join-control-plane, join-spare and join-workers: every other host joins the cluster. */
import { aws } from '../engine/activities';
import { mapBounded } from '../engine/steps';
import { freshCredentials } from './credentials';
import type { BootstrapContext } from './data';
import { assertNotRegistered, waitEtcdMember, waitHealthy, waitNodeReady } from './hostChecks';
import { joinHost } from './join';
import { loadBalancer, targetOf } from './loadBalancer';
import { etcdQuorum } from './result';

export async function joinControlPlanes(ctx: BootstrapContext): Promise<void> {
  const step = 'join-control-plane';
  const lb = await loadBalancer(ctx);
  ctx.secondaries.forEach((h) => ctx.tracker.setHost(step, h.name, 'pending', 'Queued', 'control-plane joins run one at a time (each adds an etcd member)'));
  // Serial on purpose: every control-plane join adds an etcd member, and etcd takes one learner at a time.
  for (const host of ctx.secondaries) {
    await aws.registerTarget.executeWithOptions({ summary: `register ${host.name} in the target group` }, [targetOf(ctx, lb, host)]);
    await joinHost(ctx, step, host, true);
    await waitHealthy(ctx, step, host);
    await waitNodeReady(ctx, step, host);
    await waitEtcdMember(ctx, step, host);
    ctx.tracker.setHost(step, host.name, 'done', 'Joined', 'target healthy, Node Ready, etcd member healthy');
  }
}

export async function joinSpares(ctx: BootstrapContext): Promise<void> {
  const step = 'join-spare';
  for (const host of ctx.spares) {
    await assertNotRegistered(ctx, host);
    await joinHost(ctx, step, host, true);
    await waitNodeReady(ctx, step, host);
    await waitEtcdMember(ctx, step, host);
    ctx.tracker.setHost(step, host.name, 'done', 'JoinedAsSpare', 'etcd voter, not in the load balancer');
  }
  const quorum = etcdQuorum(1 + ctx.secondaries.length + ctx.spares.length);
  ctx.tracker.setFact('etcd quorum', `${quorum.quorum} of ${quorum.members} voters (spares included); tolerates ${quorum.toleratesFailures} loss(es)`);
}

export async function joinWorkers(ctx: BootstrapContext): Promise<void> {
  const step = 'join-workers';
  // Refresh once up front so parallel joins do not each race to refresh the token.
  await freshCredentials(ctx, false);
  ctx.workers.forEach((h) => ctx.tracker.setHost(step, h.name, 'pending'));
  await mapBounded(ctx.workers, ctx.config.parallelism, async (host) => {
    await joinHost(ctx, step, host, false);
    await waitNodeReady(ctx, step, host);
    ctx.tracker.setHost(step, host.name, 'done', 'Joined', 'Node Ready');
  });
}
