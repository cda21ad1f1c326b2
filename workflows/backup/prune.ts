/** Step prune: kubeha's oldest backups of the cluster beyond `keep` deleted; this run's is never one of them. */
import { store } from './activities';
import type { BackupContext } from './data';

/** Pruning follows a new backup only: a run that stored nothing leaves the older ones as they are. */
export function pruneSkipReason(ctx: BackupContext): string | undefined {
  if (ctx.config.dryRun) return `dry run: would keep the newest ${ctx.config.keep} backups`;
  return ctx.record ? undefined : 'no backup was stored this run';
}

export async function pruneStep(ctx: BackupContext): Promise<void> {
  ctx.pruned = await store.pruneBackups.executeWithOptions({ summary: `keep the newest ${ctx.config.keep} backups` }, [
    { clusterName: ctx.config.clusterName, store: ctx.config.store, keep: ctx.config.keep, protect: ctx.record?.backupId },
  ]);
  ctx.tracker.setStep('prune', 'running', 'Pruned', `kept ${ctx.pruned.kept.length}, deleted ${ctx.pruned.deleted.length}`);
}
