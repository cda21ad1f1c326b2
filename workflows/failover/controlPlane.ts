/**
 * Step control-plane: when west's registered control-plane targets are unhealthy, register the spares
 * (after checking etcd keeps quorum with them) and wait until they are healthy. Never deregisters.
 * Without quorum the spares could not serve: RecoverControlPlane is started for west instead (recovery.ts).
 */
import type { HostSpec } from '../../common/inputs/shared';
import { patched } from '@temporalio/workflow';
import { startRecovery } from './recovery';
import { aws, waits } from '../engine/activities';
import { rootMessage } from '../engine/steps';
import { etcdProbe } from './activities';
import type { FailoverContext } from './data';

export async function registerSpares(ctx: FailoverContext): Promise<void> {
  const cp = ctx.config.controlPlane;
  if (!cp) return;
  const { incident, tracker } = ctx;
  incident.setState('failing-over');
  const step = 'control-plane';
  // Runs before the shift: the split lives in west's API, reached through this load balancer.
  const targets = await aws.describeTargetHealth.executeWithOptions({ summary: 'control-plane targets health' }, [
    { aws: cp.aws, targetGroupArn: cp.targetGroupArn },
  ]);
  const registered = targets.filter((t) => cp.controlPlanes.some((h) => h.address === t.ip));
  const healthy = registered.filter((t) => t.state === 'healthy');
  const summary = `${healthy.length} of ${registered.length} registered control-plane targets healthy (need ${cp.minHealthyTargets})`;
  tracker.setFact('control-plane targets', summary);
  if (healthy.length >= cp.minHealthyTargets) {
    incident.decide('ControlPlaneHealthy', `${summary}: spares stay out of the load balancer`);
    tracker.setStep(step, 'running', 'NotNeeded', summary);
    return;
  }
  const quorum = await etcdQuorum([...cp.spares, ...cp.controlPlanes]);
  if (!quorum.known) {
    // No member answered: the spare cannot be proven useful, but traffic must still move.
    tracker.setFact('etcd quorum', `unknown (${quorum.reason})`);
    incident.decide(
      'QuorumUnknown',
      `${summary}; etcd did not answer through any host, quorum unknown: spares not registered, traffic shift goes on (${quorum.reason})`,
    );
    tracker.setStep(step, 'running', 'QuorumUnknown', quorum.reason);
    return;
  }
  const quorumText = `etcd via ${quorum.via}: ${quorum.healthyVoters} of ${quorum.voters} voters healthy, quorum ${quorum.quorum}`;
  tracker.setFact('etcd quorum', quorumText);
  if (quorum.healthyVoters < quorum.quorum) {
    incident.decide('SpareNotRegistered', `${summary}, but ${quorumText}: an API server on the spare could not serve writes; restore etcd quorum first`);
    tracker.setStep(step, 'running', 'NoQuorum', quorumText);
    // Runs recorded before the failover started recoveries replay without it.
    if (patched('kubeha-failover-starts-recovery')) await startRecovery(ctx, quorumText);
    return;
  }
  for (const spare of cp.spares) {
    tracker.setHost(step, spare.name, 'running', 'Registering', `${spare.address}:6443`);
    const ref = { aws: cp.aws, targetGroupArn: cp.targetGroupArn, ip: spare.address, port: 6443 };
    const { registered: didRegister } = await aws.registerTarget.executeWithOptions({ summary: `register spare ${spare.name}` }, [ref]);
    incident.decide(
      didRegister ? 'SpareRegistered' : 'SpareAlreadyRegistered',
      `${spare.name} (${spare.address}) in the target group: ${summary}; ${quorumText}`,
    );
    tracker.setHost(step, spare.name, 'waiting', 'WaitingTargetHealthy', 'registered; waiting for the health checks');
    const { state, waitedSeconds } = await waits.waitTargetHealthy.executeWithOptions({ summary: `wait until spare ${spare.name} is healthy` }, [
      { ...ref, deadlineSeconds: cp.healthyDeadlineSeconds },
    ]);
    if (!incident.status.sparesRegistered.includes(spare.name)) incident.status.sparesRegistered.push(spare.name);
    tracker.setHost(step, spare.name, 'done', 'TargetHealthy', `${state} after ${waitedSeconds} s`);
  }
  tracker.setFact('spares in the load balancer', `${incident.status.sparesRegistered.join(', ')} (failover never deregisters; an operator decides)`);
  tracker.setStep(step, 'running', 'SparesHealthy', `${incident.status.sparesRegistered.join(', ')} serving the API`);
}

/** What etcd said about its quorum, or why it could not say. */
type QuorumAnswer = { known: true; healthyVoters: number; voters: number; quorum: number; via: string } | { known: false; reason: string };

/** Asks etcd about its members through the first host that answers: spares first, they are alive by design. */
async function etcdQuorum(candidates: HostSpec[]): Promise<QuorumAnswer> {
  const reasons: string[] = [];
  for (const host of candidates) {
    try {
      const members = await etcdProbe.etcdMembers.executeWithOptions({ summary: `etcd members via ${host.name}` }, [{ host }]);
      const voters = members.filter((m) => !m.isLearner);
      const quorum = Math.floor(voters.length / 2) + 1;
      return { known: true, healthyVoters: voters.filter((m) => m.healthy).length, voters: voters.length, quorum, via: host.name };
    } catch (err) {
      reasons.push(`${host.name}: ${rootMessage(err).slice(0, 200)}`);
    }
  }
  return { known: false, reason: reasons.join('; ') || 'no host to ask etcd through' };
}
