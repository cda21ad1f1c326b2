/**
 * Step precheck: quorum is really lost. Every voter is asked about itself, again and again over the
 * window: a member that follows a leader, or an API target the load balancer finds healthy, for the whole
 * window, means a majority is alive somewhere, and the run refuses (forcing a new cluster then would fork it). Members
 * that do not answer at all stay "lost"; at least one must answer, or there is nothing to restore from.
 */
import { sleep } from '@temporalio/workflow';
import type { EtcdMemberProbe } from '../../activities/recovery/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { loadBalancer } from '../bootstrap/loadBalancer';
import { aws } from '../engine/activities';
import { members } from './activities';
import type { RecoverContext } from './data';

/** Asks every voter about itself, at once; records each answer as the host's condition. */
export async function probeVoters(ctx: RecoverContext, step: string): Promise<EtcdMemberProbe[]> {
  const probes = await Promise.all(
    ctx.voters.map((host) => members.probeEtcdMember.executeWithOptions({ summary: `ask etcd on ${host.name} about itself` }, [{ host }])),
  );
  for (const p of probes) {
    ctx.probes[p.host] = p;
    if (!p.reachable) ctx.tracker.setHost(step, p.host, 'waiting', 'Unreachable', p.error ?? 'no answer over SSH');
    else if (!p.answers) ctx.tracker.setHost(step, p.host, 'waiting', 'EtcdDown', p.error ?? 'etcd does not answer');
    else if (p.leader === '0')
      ctx.tracker.setHost(step, p.host, 'running', 'NoLeader', `raft index ${p.raftIndex}, revision ${p.revision}, ${p.voters} voter(s) in its view`);
    else ctx.tracker.setHost(step, p.host, 'running', 'FollowsLeader', `leader ${p.leader}, ${p.voters} voter(s)`);
  }
  return probes;
}

/** What says quorum is not lost: a member with a leader (proof), or an API target the load balancer finds healthy. */
export interface QuorumEvidence {
  kind: 'leader' | 'serving-target';
  reason: string;
}

export async function quorumEvidence(ctx: RecoverContext, probes: EtcdMemberProbe[]): Promise<QuorumEvidence | undefined> {
  const led = probes.find((p) => p.answers && p.leader !== '0');
  if (led) return { kind: 'leader', reason: `etcd on ${led.host} follows leader ${led.leader} with ${led.voters} voter(s): quorum holds` };
  const lb = await loadBalancer(ctx.cluster);
  const targets = await aws.describeTargetHealth.executeWithOptions({ summary: 'API targets health' }, [
    { aws: ctx.config.cluster.aws, targetGroupArn: lb.targetGroupArn },
  ]);
  const serving = targets.find((t) => t.state === 'healthy');
  if (!serving) return undefined;
  return {
    kind: 'serving-target',
    reason: `API target ${serving.ip} is healthy in the load balancer: an API server passes its readiness check, so etcd may have quorum behind it`,
  };
}

export async function precheckStep(ctx: RecoverContext): Promise<void> {
  const step = 'precheck';
  const { windowSeconds, intervalSeconds } = ctx.config.precheck;
  // Right after a loss the survivors still name the old leader until their election timeout, and the load
  // balancer's view lags its health checks: evidence restarts the window, and only evidence that lasts a
  // whole window refuses (at once with a window of 0).
  let quiet = 0;
  let serving = 0;
  for (let round = 1; ; round++) {
    const probes = await probeVoters(ctx, step);
    const evidence = await quorumEvidence(ctx, probes);
    if (evidence && serving >= windowSeconds) {
      ctx.stop = { outcome: 'refused', reason: evidence.reason };
      ctx.tracker.setStep(step, 'running', 'QuorumHolds', evidence.reason);
      return;
    }
    const answering = probes.filter((p) => p.answers).length;
    const summary = evidence
      ? `${evidence.reason}; watching (round ${round}, ${serving} of ${windowSeconds} s)`
      : `${answering} of ${ctx.voters.length} voters answer, none has a leader, no API target healthy (round ${round}, ${quiet} of ${windowSeconds} s)`;
    ctx.tracker.setFact('quorum', summary);
    if (!evidence && quiet >= windowSeconds) break;
    ctx.tracker.setStep(step, 'waiting', evidence ? 'QuorumMayHold' : 'Watching', summary);
    await sleep(`${intervalSeconds} seconds`);
    if (evidence) {
      serving += intervalSeconds;
      quiet = 0;
    } else {
      quiet += intervalSeconds;
      serving = 0;
    }
  }
  const survivors = Object.values(ctx.probes).filter((p) => p.answers);
  const snapshot = ctx.config.snapshot;
  if (survivors.length === 0 && snapshot) {
    ctx.tracker.setStep(step, 'running', 'NoSurvivor', `quorum lost for ${windowSeconds} s and no member answers: ${snapshot.host} is restored from a backup`);
    return;
  }
  if (survivors.length === 0) {
    throw kubehaFailure({
      type: ErrorType.Unreachable,
      message: `no etcd member answers on any of ${ctx.voters.map((h) => h.name).join(', ')}: there is no survivor to restore from`,
      retryable: true,
      hint: 'bring back one control-plane host with its etcd data (its kubelet starts etcd) and signal "retry"; or, when every member lost its data, start a recovery with "snapshot" (a host and the backup store) to restore the newest backup (kubeha backup list)',
    });
  }
  ctx.tracker.setStep(step, 'running', 'QuorumLost', `quorum lost for ${windowSeconds} s; ${survivors.map((p) => p.host).join(', ')} answer`);
}
