/**
 * The recovery activities: asking each etcd member about itself, restoring quorum on a survivor (or,
 * when none survived, from a stored backup), and the lost members' return.
 * Built on the host activities' runner (SSH and the secret store).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { BackupStore } from '../../common/inputs/backupEtcd';
import { findBackup, listBackups, s3ClientFor } from '../backup/store';
import { type HostActivityDeps, HostRunner } from '../hosts/context';
import { probeEtcdMember } from './probe';
import { restoreEtcdFromSurvivor } from './restore';
import { restoreEtcdFromSnapshot } from './snapshotRestore';
import { resetStaleMember } from './stale';
import { waitHostsBack } from './hostsBack';
import type { RecoveryActivities } from './types';

/** What the recovery activities need. */
export interface RecoveryActivityDeps extends HostActivityDeps {
  /** S3 client of a backup store (a restore from a snapshot). Default: the SDK's credential chain, the store's region and endpoint. */
  s3For?: (store: BackupStore) => S3Client;
}

/** Builds the recovery activities. */
export function createRecoveryActivities(deps: RecoveryActivityDeps): RecoveryActivities {
  const run = new HostRunner(deps);
  const s3For = deps.s3For ?? s3ClientFor;
  return {
    probeEtcdMember: (input) => probeEtcdMember(run, input.host),
    restoreEtcdFromSurvivor: (input) => restoreEtcdFromSurvivor(run, input.host),
    findRecoveryBackup: async ({ clusterName, store, backupId }) =>
      backupId ? findBackup(s3For(store), store, clusterName, backupId) : (await listBackups(s3For(store), store, clusterName))[0],
    restoreEtcdFromSnapshot: (input) => restoreEtcdFromSnapshot(run, s3For(input.store), input),
    resetStaleMember: (input) => resetStaleMember(run, input.host, input.survivor),
    waitHostsBack: (input) => waitHostsBack(run, input.hosts, input.timeoutSeconds, input.pollSeconds),
  };
}
