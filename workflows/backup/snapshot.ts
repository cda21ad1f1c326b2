/**
 * Step snapshot: holding the cluster lock, so never while a join or a recovery changes the members,
 * the snapshot is taken on the voter, checked and stored with the sealed CA bundle. When the lock stays
 * held longer than `lockWaitSeconds` the run takes no snapshot and records why: the next scheduled run
 * comes soon, and waiting longer would only pile runs up behind a long operation.
 */
import { ErrorType, failureType } from '../../common/errors';
import { withClusterLock } from '../lock/withClusterLock';
import { backups } from './activities';
import type { BackupContext } from './data';

export async function snapshotStep(ctx: BackupContext): Promise<void> {
  const step = 'snapshot';
  const host = ctx.host;
  if (!host) throw new Error('select-voter did not run: no host to snapshot on');
  let acquired = false;
  try {
    const result = await withClusterLock(
      ctx.config.clusterName,
      'take an etcd backup',
      () =>
        backups.backupEtcdSnapshot.executeWithOptions({ summary: `etcd snapshot ${ctx.backupId} on ${host.name}` }, [
          { clusterName: ctx.config.clusterName, backupId: ctx.backupId, host, store: ctx.config.store, snapshotDir: ctx.config.snapshotDir },
        ]),
      {
        timeout: `${ctx.config.lockWaitSeconds} seconds`,
        onWaiting: () => ctx.tracker.setStep(step, 'waiting', 'WaitingForClusterLock', 'a join or a recovery of this cluster holds the lock'),
        onAcquired: () => {
          acquired = true;
          ctx.tracker.setStep(step, 'running', 'Snapshotting', `on ${host.name}`);
        },
      },
    );
    ctx.record = result.record;
    ctx.uploaded = result.uploaded;
  } catch (err) {
    if (acquired || failureType(err) !== ErrorType.Conflict) throw err;
    ctx.skipReason = `the cluster lock stayed held for ${ctx.config.lockWaitSeconds} s (a join or a recovery runs); no snapshot this run`;
    ctx.tracker.setStep(step, 'running', 'SkippedClusterLocked', ctx.skipReason);
    return;
  }
  const r = ctx.record;
  ctx.tracker.setFact('backup', r.backupId);
  ctx.tracker.setFact('etcd revision', String(r.revision));
  ctx.tracker.setStep(
    step,
    'running',
    ctx.uploaded ? 'Stored' : 'AlreadyStored',
    `${r.snapshotKey}: revision ${r.revision}, ${r.totalKeys} keys, ${r.bytes} bytes${ctx.uploaded ? '' : ' (stored by an earlier attempt)'}`,
  );
}
