/**
 * What the recovery activities take and report: one etcd member's own view (asked locally, so it
 * answers without quorum), and the outcome of restoring quorum on a survivor.
 */
import type { BackupStore } from '../../common/inputs/backupEtcd';
import type { HostSpec } from '../../common/inputs/shared';
import type { BackupRecord } from '../backup/types';

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
  /** The backup the member was restored from, when no member survived (a snapshot restore). */
  fromBackup?: { backupId: string; createdAt: string; revision: number; host: string };
}

/** Input of `restoreEtcdFromSnapshot`. */
export interface SnapshotRestoreInput {
  host: HostSpec;
  clusterName: string;
  store: BackupStore;
  /** The backup chosen (by `findRecoveryBackup`, recorded in the run's history). */
  backupId: string;
  /** Names this restore: a retry that finds the host restored under the same token does not restore again. */
  token: string;
  /** The other voters: none of them is a member of the restored cluster. */
  lostMembers: string[];
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
  /** Read-only: the backup to restore from (`backupId`, or the newest complete one); undefined when the store holds none. */
  findRecoveryBackup(input: { clusterName: string; store: BackupStore; backupId?: string }): Promise<BackupRecord | undefined>;
  /**
   * When no member survived: the host's etcd and kube-apiserver held out of the kubelet, the backup's
   * snapshot written onto the host and checked, `etcdutl snapshot restore` into a one-member cluster,
   * its data put in place of the lost one, the manifests put back. Refuses while the host's etcd answers.
   */
  restoreEtcdFromSnapshot(input: SnapshotRestoreInput): Promise<SurvivorRestoreResult>;
  /**
   * Resets a lost control plane that came back with its old etcd member (`kubeadm reset -f`), unless its
   * member belongs to the restored cluster (asked through `survivor`) or nothing of it is left.
   */
  resetStaleMember(input: { host: HostSpec; survivor: HostSpec }): Promise<{ reset: boolean; reason?: string }>;
  /** Waits until one of the hosts answers over SSH (every `pollSeconds`), or `timeoutSeconds` pass: the names of those that answered. */
  waitHostsBack(input: { hosts: HostSpec[]; timeoutSeconds: number; pollSeconds: number }): Promise<{ back: string[]; waitedSeconds: number }>;
}
