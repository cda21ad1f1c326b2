/**
 * The workflows the backup tests bundle: the backup, the cluster lock, and a holder standing in for a
 * join or a recovery (it keeps the lock until signalled).
 */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { withClusterLock } from '../../workflows/lock/withClusterLock';

export { BackupEtcd } from '../../workflows/backup';
export { ClusterLock } from '../../workflows/lock';

/** Releases the lock held by {@link HoldClusterLock}. */
export const releaseSignal = defineSignal('release');

/** Holds a cluster's lock until signalled, like a control-plane join does while it runs. */
export async function HoldClusterLock(clusterName: string): Promise<void> {
  let released = false;
  setHandler(releaseSignal, () => {
    released = true;
  });
  await withClusterLock(clusterName, 'control-plane join (test)', () => condition(() => released));
}
