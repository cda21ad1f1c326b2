/**
 * The contracts of the backup activities. Everything here crosses Temporal's history: host names,
 * object keys, sizes and hashes, never key material (the CA bundle is sealed inside the activity).
 * Type-only module: workflows import it.
 */
import type { BackupStore } from '../../common/inputs/backupEtcd';
import type { HostSpec } from '../../common/inputs/shared';

/** Which control-plane host a snapshot is taken on, and why the others were passed over. */
export interface VoterChoice {
  /** The first host (input order) whose etcd member is a voter answering healthy. */
  host?: string;
  /** Hosts passed over, with the reason. */
  skipped: { host: string; reason: string }[];
}

/** What `etcdutl snapshot status -w json` reports. */
export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKeys: number;
  totalSize: number;
}

/** One stored backup, as its snapshot object's metadata describes it. */
export interface BackupRecord extends SnapshotStatus {
  backupId: string;
  clusterName: string;
  /** Object keys of the snapshot and of the sealed CA bundle. */
  snapshotKey: string;
  caBundleKey: string;
  /** Bytes of the snapshot file (S3 ContentLength). */
  bytes: number;
  /** SHA-256 of the snapshot file, hex. */
  sha256: string;
  host: string;
  createdAt: string;
}

/** Input of `backupEtcdSnapshot`. */
export interface BackupSnapshotInput {
  clusterName: string;
  backupId: string;
  host: HostSpec;
  store: BackupStore;
  /** The 0700 directory on the host the snapshot file waits in. */
  snapshotDir: string;
}

/** What `backupEtcdSnapshot` did: `uploaded` false when an earlier attempt had stored it already. */
export interface BackupSnapshotResult {
  record: BackupRecord;
  uploaded: boolean;
}

/** Input of `pruneBackups`. */
export interface PruneBackupsInput {
  clusterName: string;
  store: BackupStore;
  keep: number;
  /** Never deleted, whatever its age (this run's backup). */
  protect?: string;
}

/** What `pruneBackups` found and deleted (backup ids). */
export interface PruneResult {
  kept: string[];
  deleted: string[];
}

/** The backup activities (created by `createBackupActivities`). */
export interface BackupActivities {
  /** Read-only: the first control-plane host whose etcd member is a healthy voter. */
  selectEtcdVoter(input: { hosts: HostSpec[] }): Promise<VoterChoice>;
  /** Snapshot on the host, checked, streamed to S3 with the sealed CA bundle; the host's file removed. */
  backupEtcdSnapshot(input: BackupSnapshotInput): Promise<BackupSnapshotResult>;
  /** Deletes kubeha's oldest backups of the cluster beyond `keep`. */
  pruneBackups(input: PruneBackupsInput): Promise<PruneResult>;
}
