/**
 * The restore when no member survived: the backup to restore is chosen once (recorded in the run's
 * history, so a resumed run restores the same one) and written onto the host the input names.
 */
import { workflowInfo } from '@temporalio/workflow';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { backups, restores } from './activities';
import type { RecoverContext } from './data';

/** Picks the backup (the input's, or the newest complete one) and the host it is restored on. */
export async function chooseBackup(ctx: RecoverContext, step: string): Promise<boolean> {
  const snapshot = ctx.config.snapshot;
  const host = ctx.voters.find((h) => h.name === snapshot?.host);
  if (!snapshot || !host) return false;
  const clusterName = ctx.config.cluster.clusterName;
  const record = await backups.findRecoveryBackup.executeWithOptions({ summary: `find the backup of ${clusterName} to restore` }, [
    { clusterName, store: snapshot.store, backupId: snapshot.backupId },
  ]);
  if (!record) {
    throw kubehaFailure({
      type: ErrorType.CloudRejected,
      message: `no complete backup${snapshot.backupId ? ` ${snapshot.backupId}` : ''} of cluster ${clusterName} in s3://${snapshot.store.bucket}/${snapshot.store.prefix}`,
      retryable: false,
      hint: '`kubeha backup list` shows what is stored; check snapshot.store (bucket, prefix, region) and snapshot.backupId',
    });
  }
  ctx.survivor = host;
  ctx.backup = { backupId: record.backupId, createdAt: record.createdAt, revision: record.revision };
  ctx.tracker.setFact(
    'survivor',
    `${host.name}, restored from backup ${record.backupId} (taken ${record.createdAt} on ${record.host}, revision ${record.revision})`,
  );
  ctx.tracker.setStep(step, 'running', 'BackupChosen', `backup ${record.backupId}: writes after ${record.createdAt} are lost`);
  return true;
}

/** Restores the chosen backup on the survivor (the caller holds the cluster lock). */
export async function restoreBackup(ctx: RecoverContext, step: string): Promise<void> {
  const { survivor, backup } = ctx;
  const snapshot = ctx.config.snapshot;
  if (!survivor || !backup || !snapshot) throw new Error('no backup chosen');
  ctx.tracker.setHost(step, survivor.name, 'running', 'Restoring', `backup ${backup.backupId} written onto the host and restored as a one-member cluster`);
  const { workflowId, runId } = workflowInfo();
  ctx.restore = await restores.restoreEtcdFromSnapshot.executeWithOptions({ summary: `restore backup ${backup.backupId} on ${survivor.name}` }, [
    {
      host: survivor,
      clusterName: ctx.config.cluster.clusterName,
      store: snapshot.store,
      backupId: backup.backupId,
      token: `${workflowId}/${runId}`,
      lostMembers: ctx.voters.filter((h) => h.name !== survivor.name).map((h) => h.name),
    },
  ]);
}
