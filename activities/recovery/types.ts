/**
 * What the recovery activities take and report: one etcd member's own view (asked locally, so it
 * answers without quorum), and the outcome of restoring quorum on a survivor.
 */
import type { HostSpec } from '../../common/inputs/shared';

/** One control-plane host's etcd, as `etcdctl endpoint status` and `member list` on the host report it. */
export interface EtcdMemberProbe {
  host: string;
  /** SSH answered. */
  reachable: boolean;
  /** The local etcd answered `endpoint status`. */
  answers: boolean;
  /** This member's id (hex). */
  memberId?: string;
  /** The leader this member follows (hex); "0" while it has none (no quorum, or an election). */
  leader?: string;
  raftIndex?: number;
  raftTerm?: number;
  /** The store revision this member has applied. */
  revision?: number;
  /** Voting members in this member's view of the cluster. */
  voters?: number;
  /** Why the host or its etcd did not answer. */
  error?: string;
}

/** What `restoreEtcdFromSurvivor` did. */
export interface SurvivorRestoreResult {
  /** An earlier attempt had restored it already: nothing was forced this time. */
  alreadyRestored: boolean;
  memberId: string;
  /** The revision the survivor had before the restore (undefined when an earlier attempt restored it). */
  revisionBefore?: number;
  /** The revision of the one-member cluster once it serves. */
  revisionAfter: number;
  /** Names (or ids, for unstarted members) of the members the restore removed. */
  removedMembers: string[];
}

/** The recovery activities (created by `createRecoveryActivities`). */
export interface RecoveryActivities {
  /** Read-only: the host's etcd member as it sees itself; never throws for an unreachable host. */
  probeEtcdMember(input: { host: HostSpec }): Promise<EtcdMemberProbe>;
  /**
   * Makes the host's etcd a one-member cluster on its own data (`--force-new-cluster`, then the manifest
   * as kubeadm wrote it). Refuses while the member follows a leader; an attempt that finds the host
   * already alone and leading only puts the manifest back.
   */
  restoreEtcdFromSurvivor(input: { host: HostSpec }): Promise<SurvivorRestoreResult>;
  /**
   * Resets a lost control plane that came back with its old etcd member (`kubeadm reset -f`), unless its
   * member belongs to the restored cluster (asked through `survivor`) or nothing of it is left.
   */
  resetStaleMember(input: { host: HostSpec; survivor: HostSpec }): Promise<{ reset: boolean; reason?: string }>;
  /** Waits until one of the hosts answers over SSH (every `pollSeconds`), or `timeoutSeconds` pass: the names of those that answered. */
  waitHostsBack(input: { hosts: HostSpec[]; timeoutSeconds: number; pollSeconds: number }): Promise<{ back: string[]; waitedSeconds: number }>;
}
