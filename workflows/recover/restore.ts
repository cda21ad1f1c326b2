/**
 * Step restore: the members are asked once more (quorum may have come back while the run waited for
 * approval); the answering member with the highest raft index (the most of the log) is restored as a
 * one-member cluster on its own data, holding the cluster lock. When none answers and the input names a
 * backup store, the newest backup is restored on the host it names instead (fromBackup.ts). The lost
 * members' API targets leave the load balancer (an old majority that comes back must not serve), and
 * the survivor's goes in.
 */
import type { EtcdMemberProbe } from '../../activities/recovery/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { loadBalancer, targetOf } from '../bootstrap/loadBalancer';
import { aws } from '../engine/activities';
import { withClusterLock } from '../lock/withClusterLock';
import { restores } from './activities';
import type { RecoverContext } from './data';
import { chooseBackup, restoreBackup } from './fromBackup';
import { probeVoters, quorumEvidence } from './precheck';

/** The answering member with the highest raft index; input order breaks ties. */
export function pickSurvivor(order: readonly string[], probes: readonly EtcdMemberProbe[]): EtcdMemberProbe | undefined {
  const answering = probes.filter((p) => p.answers && p.raftIndex !== undefined);
  answering.sort((a, b) => (b.raftIndex ?? 0) - (a.raftIndex ?? 0) || order.indexOf(a.host) - order.indexOf(b.host));
  return answering[0];
}

async function chooseSurvivor(ctx: RecoverContext, step: string): Promise<void> {
  const probes = await probeVoters(ctx, step);
  const evidence = await quorumEvidence(ctx, probes);
  if (evidence) {
    ctx.stop = { outcome: 'refused', reason: `${evidence.reason} (found just before the restore)` };
    ctx.tracker.setStep(step, 'running', 'QuorumHolds', ctx.stop.reason);
    return;
  }
  const best = pickSurvivor(
    ctx.voters.map((h) => h.name),
    probes,
  );
  const host = ctx.voters.find((h) => h.name === best?.host);
  if (!best && (await chooseBackup(ctx, step))) return;
  if (!best || !host) {
    throw kubehaFailure({
      type: ErrorType.Unreachable,
      message: 'no etcd member answers any more: there is no survivor to restore from',
      retryable: true,
      hint: 'bring back one control-plane host with its etcd data and signal "retry"',
    });
  }
  // Recorded in history: a resumed or retried run restores this member and no other (no second cluster).
  ctx.survivor = host;
  ctx.tracker.setFact('survivor', `${host.name} (raft index ${best.raftIndex}, revision ${best.revision})`);
}

export async function restoreStep(ctx: RecoverContext): Promise<void> {
  const step = 'restore';
  if (!ctx.survivor) await chooseSurvivor(ctx, step);
  const survivor = ctx.survivor;
  if (!survivor) return;
  const lb = await loadBalancer(ctx.cluster);
  await withClusterLock(ctx.config.cluster.clusterName, `restore etcd quorum on ${survivor.name}`, async () => {
    if (ctx.backup) await restoreBackup(ctx, step);
    else {
      ctx.tracker.setHost(step, survivor.name, 'running', 'Restoring', 'etcd --force-new-cluster on its own data');
      ctx.restore = await restores.restoreEtcdFromSurvivor.executeWithOptions({ summary: `restore etcd quorum on ${survivor.name}` }, [{ host: survivor }]);
    }
    const restored = ctx.restore;
    if (!restored) throw new Error('the restore returned nothing');
    const removed = restored.removedMembers.length ? `; removed ${restored.removedMembers.join(', ')}` : '';
    ctx.tracker.setHost(
      step,
      survivor.name,
      'done',
      restored.alreadyRestored ? 'AlreadyRestored' : 'Restored',
      `one-member cluster at revision ${restored.revisionAfter}${removed}`,
    );
  });
  for (const host of ctx.config.cluster.hosts.filter((h) => h.role === 'control-plane' && h.name !== survivor.name)) {
    const { deregistered } = await aws.deregisterTarget.executeWithOptions({ summary: `take lost ${host.name} out of the load balancer` }, [
      targetOf(ctx.cluster, lb, host),
    ]);
    if (deregistered && !ctx.fenced.includes(host.name)) ctx.fenced.push(host.name);
    ctx.tracker.setHost(step, host.name, 'done', 'Fenced', 'out of the load balancer until it rejoins');
  }
  await aws.registerTarget.executeWithOptions({ summary: `register ${survivor.name} in the load balancer` }, [targetOf(ctx.cluster, lb, survivor)]);
  ctx.tracker.setStep(step, 'running', 'Restored', `${survivor.name} serves etcd alone; lost members out of the load balancer`);
}
