/**
 * What the steps of one BackupEtcd run share: the validated input and the backup id, built once; the
 * chosen voter, the stored record, a skip reason and the pruning are the steps' findings.
 */
import type { BackupRecord, PruneResult } from '../../activities/backup/types';
import { type BackupEtcdConfig, backupIdOf } from '../../common/inputs/backupEtcd';
import type { HostSpec } from '../../common/inputs/shared';
import type { ProgressTracker } from '../engine/progress';

export interface BackupContext {
  readonly config: BackupEtcdConfig;
  readonly tracker: ProgressTracker;
  /** From the workflow id and start time: a scheduled run's retries and resumes write the same backup. */
  readonly backupId: string;
  host?: HostSpec;
  skippedHosts: { host: string; reason: string }[];
  record?: BackupRecord;
  /** False when an earlier attempt had already stored this backup. */
  uploaded?: boolean;
  /** Why no snapshot was taken this run (the cluster lock stayed held). */
  skipReason?: string;
  pruned?: PruneResult;
}

export function backupContext(config: BackupEtcdConfig, tracker: ProgressTracker, workflowId: string, startedAt: Date): BackupContext {
  return { config, tracker, backupId: backupIdOf(workflowId, startedAt), skippedHosts: [] };
}
