/**
 * `selectEtcdVoter`: the first control-plane host (input order) whose etcd member is a voter that
 * answers `etcdctl endpoint health`. A snapshot from a learner or a lagging member would be stale.
 */
import type { HostSpec } from '../../common/inputs/shared';
import { listEtcdMembers } from '../hosts/cluster';
import { firstLine, type HostRunner } from '../hosts/context';
import { memberOfHost } from '../hosts/etcd';
import type { EtcdMember } from '../types';
import type { VoterChoice } from './types';

/** Asks etcd through the hosts in order until one answers, then picks the first healthy voter among them. */
export async function selectEtcdVoter(run: HostRunner, hosts: HostSpec[]): Promise<VoterChoice> {
  const candidates = hosts.filter((h) => h.role !== 'worker');
  const skipped: VoterChoice['skipped'] = [];
  let members: EtcdMember[] | undefined;
  for (const host of candidates) {
    try {
      members = members ?? (await listEtcdMembers(run, host));
    } catch (err) {
      skipped.push({ host: host.name, reason: `etcd does not answer through it: ${firstLine((err as Error).message)}` });
      continue;
    }
    const member = memberOfHost(members, host);
    if (!member) skipped.push({ host: host.name, reason: 'not an etcd member (no member with its peer URL)' });
    else if (member.isLearner) skipped.push({ host: host.name, reason: 'its etcd member is a learner (no vote, may lag)' });
    else if (!member.healthy) skipped.push({ host: host.name, reason: 'its etcd member does not answer endpoint health' });
    else return { host: host.name, skipped };
  }
  return { skipped };
}
