/**
 * `restoreEtcdFromSurvivor`: the surviving member of a stacked etcd that lost quorum becomes a
 * one-member cluster on its own data, the way etcd's disaster recovery documents it: the static Pod
 * manifest gets `--force-new-cluster`, the kubelet restarts etcd with it, and once the member leads
 * alone the manifest is put back as kubeadm wrote it (the kubelet restarts etcd again, without it).
 *
 * Every attempt reads the member first: a member that follows a leader is never forced (quorum holds),
 * and a member already alone and leading is not forced twice; only the manifest is put back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { heartbeat } from '../activityContext';
import { hostFailure, type HostRunner, REMOTE } from '../hosts/context';
import { etcdctlCommand, parseMemberList } from '../hosts/etcd';
import { forcesNewCluster, withForceNewCluster } from './manifest';
import { probeEtcdMember, probeReachableMember } from './probe';
import type { EtcdMemberProbe, SurvivorRestoreResult } from './types';

/** Where kubeadm writes the etcd static Pod manifest. */
export const ETCD_MANIFEST = `${REMOTE.manifests}/etcd.yaml`;
/** The kubelet notices a changed manifest within its file check (20 s by default); etcd then starts. */
const RESTART_TIMEOUT_MS = 180_000;
const POLL_MS = 2000;

/** Alone and leading: one voter in its own view, and it is the leader (a restored one-member cluster). */
export function leadsAlone(p: EtcdMemberProbe): boolean {
  return p.answers && p.voters === 1 && p.memberId !== undefined && p.leader === p.memberId;
}

async function readManifest(run: HostRunner, host: HostSpec): Promise<{ text: string; forced: boolean }> {
  const text = await run.readFile(host, ETCD_MANIFEST);
  const forced = text === undefined ? undefined : forcesNewCluster(text);
  if (text === undefined || forced === undefined) {
    throw hostFailure({
      type: ErrorType.Conflict,
      host,
      message: `${ETCD_MANIFEST} is missing or has no etcd command: this host runs no stacked etcd member`,
      retryable: false,
      hint: 'restore on a control-plane host that kubeadm set up (its etcd static Pod manifest holds the member)',
    });
  }
  return { text, forced };
}

/** Waits until the member leads alone, and (when `afterTerm` is given) has been restarted since that term. */
export async function waitLeadsAlone(run: HostRunner, host: HostSpec, why: string, afterTerm?: number): Promise<EtcdMemberProbe> {
  const deadline = Date.now() + RESTART_TIMEOUT_MS;
  let last: EtcdMemberProbe | undefined;
  while (Date.now() < deadline) {
    last = await probeEtcdMember(run, host);
    heartbeat({ waiting: why, leader: last.leader, voters: last.voters });
    if (leadsAlone(last) && (afterTerm === undefined || (last.raftTerm ?? 0) > afterTerm)) return last;
    await sleep(POLL_MS);
  }
  throw hostFailure({
    type: ErrorType.NotReady,
    host,
    message: `etcd did not ${why} within ${RESTART_TIMEOUT_MS / 1000} s (last seen: ${last?.answers ? `leader ${last.leader}, ${last.voters} voter(s), term ${last.raftTerm}` : (last?.error ?? 'no answer')})`,
    retryable: true,
    hint: `read the etcd static Pod's log on ${host.name} (crictl logs) and the kubelet journal; retrying reads the member again and goes on from where it is`,
  });
}

/** Puts the manifest back without the flag and waits for etcd to restart from it. */
async function unforce(run: HostRunner, host: HostSpec, text: string, term: number): Promise<EtcdMemberProbe> {
  await run.writeFile(host, ETCD_MANIFEST, withForceNewCluster(text, false), 0o600);
  return waitLeadsAlone(run, host, 'restart from the manifest without --force-new-cluster', term);
}

export async function restoreEtcdFromSurvivor(run: HostRunner, host: HostSpec): Promise<SurvivorRestoreResult> {
  const before = await probeReachableMember(
    run,
    host,
    'the host chosen to restore on went away; when it stays away, start the recovery again so it chooses another survivor',
  );
  const manifest = await readManifest(run, host);
  if (leadsAlone(before) && before.memberId) {
    // An earlier attempt forced it: only the manifest may still carry the flag.
    const after = manifest.forced ? await unforce(run, host, manifest.text, before.raftTerm ?? 0) : before;
    return { alreadyRestored: true, memberId: before.memberId, revisionAfter: after.revision ?? 0, removedMembers: [] };
  }
  if (before.answers && before.leader !== '0') {
    throw hostFailure({
      type: ErrorType.Conflict,
      host,
      message: `etcd on ${host.name} follows leader ${before.leader} with ${before.voters} voter(s): quorum holds, and forcing a new cluster now would fork it`,
      retryable: false,
      hint: 'nothing to recover; if the API still fails, look at the API servers and the load balancer instead',
    });
  }
  if (!before.answers && !manifest.forced) {
    throw hostFailure({
      type: ErrorType.Unreachable,
      host,
      message: `etcd on ${host.name} does not answer (${before.error ?? 'no answer'}): its data cannot be judged`,
      retryable: true,
      hint: `start etcd on ${host.name} (its static Pod) so its raft index can be read, or restore on another survivor`,
    });
  }
  const list = await run.run(host, { command: etcdctlCommand('member list -w json'), label: 'etcdctl member list' });
  const others = list.exitCode === 0 ? parseMemberList(list.stdout).filter((m) => m.id !== before.memberId) : [];
  if (!manifest.forced) await run.writeFile(host, ETCD_MANIFEST, withForceNewCluster(manifest.text, true), 0o600);
  const forced = await waitLeadsAlone(run, host, 'start alone with --force-new-cluster');
  const after = await unforce(run, host, manifest.text, forced.raftTerm ?? 0);
  return {
    alreadyRestored: false,
    memberId: after.memberId ?? before.memberId ?? '',
    revisionBefore: before.revision,
    revisionAfter: after.revision ?? 0,
    removedMembers: others.map((m) => m.name || m.id),
  };
}
