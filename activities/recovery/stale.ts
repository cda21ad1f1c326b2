/**
 * `resetStaleMember`: a lost control plane that comes back still runs its old etcd member, which knows
 * the old membership; with other lost members back too it could form the old majority again, and a join
 * that asks etcd through it would join the old cluster. Such a host is reset (`kubeadm reset -f`: its
 * static Pods stopped, its etcd data and kubeadm files gone) before any lost host joins. A host whose
 * member belongs to the restored cluster (it rejoined already) or that has nothing left is not touched.
 */
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { listEtcdMembers } from '../hosts/cluster';
import { type HostRunner, REMOTE } from '../hosts/context';
import { memberOfHost } from '../hosts/etcd';

/** What `resetStaleMember` found and did. */
export interface StaleMemberResult {
  reset: boolean;
  /** Why nothing was done, when nothing was. */
  reason?: string;
}

export async function resetStaleMember(run: HostRunner, host: HostSpec, survivor: HostSpec): Promise<StaleMemberResult> {
  const members = await listEtcdMembers(run, survivor);
  if (memberOfHost(members, host)) return { reset: false, reason: `a member of the restored cluster (through ${survivor.name})` };
  const stale = await run.run(host, {
    command: `test -e ${REMOTE.manifests}/etcd.yaml || [ -n "$(ls -A ${REMOTE.etcdData} 2>/dev/null)" ]`,
    label: 'look for the old etcd member',
  });
  if (stale.exitCode !== 0) return { reset: false, reason: 'no etcd manifest or data left' };
  await run.check(
    host,
    { command: 'kubeadm reset -f', timeoutMs: 5 * 60_000, label: 'kubeadm reset' },
    `kubeadm reset -f failed on ${host.name}; read its output, stop its etcd by hand (move /etc/kubernetes/manifests/etcd.yaml away), then retry`,
    ErrorType.CommandTransient,
  );
  return { reset: true };
}
