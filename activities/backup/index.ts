/**
 * The backup activities: etcd snapshots of a cluster to S3 with its sealed CA material, and pruning.
 * Built on the host activities' runner, an S3 client per store, and the codec's keyring.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { BackupStore } from '../../common/inputs/backupEtcd';
import type { Keyring } from '../../lib/codec/keyring';
import { type HostActivityDeps, HostRunner } from '../hosts/context';
import { backupEtcdSnapshot } from './snapshot';
import { pruneBackups } from './prune';
import { s3ClientFor } from './store';
import type { BackupActivities } from './types';
import { selectEtcdVoter } from './voter';

/** What the backup activities need. */
export interface BackupActivityDeps extends HostActivityDeps {
  /** The codec's keys (the first seals the CA bundle). Loaded lazily: a worker that never backs up needs none. */
  keyring: () => Keyring;
  /** S3 client of a store. Default: the SDK's credential chain, the store's region and endpoint. */
  s3For?: (store: BackupStore) => S3Client;
}

/** Builds the backup activities. */
export function createBackupActivities(deps: BackupActivityDeps): BackupActivities {
  const run = new HostRunner(deps);
  const s3For = deps.s3For ?? s3ClientFor;
  return {
    selectEtcdVoter: (input) => selectEtcdVoter(run, input.hosts),
    backupEtcdSnapshot: (input) => backupEtcdSnapshot(run, s3For(input.store), deps.keyring(), input),
    pruneBackups: (input) => pruneBackups(s3For(input.store), input),
  };
}
