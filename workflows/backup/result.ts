/** What BackupEtcd returns. */
import type { BackupRecord } from '../../activities/backup/types';
import type { BackupContext } from './data';

/** What BackupEtcd returns: where the backup is and what it holds; never key material. */
export interface BackupResult {
  clusterName: string;
  backupId: string;
  host?: string;
  skippedHosts: { host: string; reason: string }[];
  record?: BackupRecord;
  /** False when an earlier attempt had already stored it. */
  uploaded?: boolean;
  /** Why no snapshot was taken (the cluster lock stayed held). */
  skipReason?: string;
  deleted: string[];
  dryRun: boolean;
}

export function resultOf(ctx: BackupContext): BackupResult {
  return {
    clusterName: ctx.config.clusterName,
    backupId: ctx.backupId,
    host: ctx.host?.name,
    skippedHosts: ctx.skippedHosts,
    record: ctx.record,
    uploaded: ctx.uploaded,
    skipReason: ctx.skipReason,
    deleted: ctx.pruned?.deleted ?? [],
    dryRun: ctx.config.dryRun,
  };
}
