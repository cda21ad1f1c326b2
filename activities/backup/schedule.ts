/**
 * The backup's Temporal Schedule: one per cluster (`backup-etcd-<cluster>`), an interval with jitter,
 * overlap SKIP, a catch-up window. Creating one that exists updates it (its paused state is kept).
 * Each scheduled run's workflow id is `backup-etcd-<cluster>-<scheduled time>` (Temporal appends the
 * time), which is what makes its backup id stable across the run's retries.
 */
import { type Client, ScheduleNotFoundError, type ScheduleOptions } from '@temporalio/client';
import { type BackupEtcdInput, backupEtcdInputSchema, backupScheduleId, backupScheduleSchema, type BackupScheduleInput } from '../../common/inputs/backupEtcd';
import { inputIssues } from '../../common/validation';
import { clusterScheduleOptions, createOrUpdateSchedule, invalidSchedule } from '../clusterSchedule';

/** The workflow type the schedule starts. */
export const BACKUP_WORKFLOW = 'BackupEtcd';

/** What a backup schedule is made of. */
export interface BackupScheduleRequest {
  clusterName: string;
  schedule: BackupScheduleInput;
  workflowInput: BackupEtcdInput;
  taskQueue: string;
}

/** The schedule's options, validated (settings and the input each run gets). */
export function backupScheduleOptions(request: BackupScheduleRequest): ScheduleOptions {
  const settings = backupScheduleSchema.safeParse(request.schedule);
  if (!settings.success) throw invalidSchedule('backup schedule', inputIssues(settings.error));
  const input = backupEtcdInputSchema.safeParse(request.workflowInput);
  if (!input.success) throw invalidSchedule('BackupEtcd input of the schedule', inputIssues(input.error));
  if (input.data.clusterName !== request.clusterName)
    throw invalidSchedule('backup schedule', [
      { path: 'workflowInput.clusterName', message: `is "${input.data.clusterName}", not the schedule's cluster "${request.clusterName}"` },
    ]);
  return clusterScheduleOptions({
    scheduleId: backupScheduleId(request.clusterName),
    workflowType: BACKUP_WORKFLOW,
    workflowId: backupScheduleId(request.clusterName),
    staticSummary: `etcd backup of cluster ${request.clusterName}`,
    taskQueue: request.taskQueue,
    workflowInput: request.workflowInput,
    settings: settings.data,
  });
}

/** Creates the schedule, or updates spec, action and policies of the existing one (its paused state is kept). */
export async function ensureBackupSchedule(client: Client, request: BackupScheduleRequest): Promise<{ scheduleId: string; created: boolean }> {
  return createOrUpdateSchedule(client, backupScheduleOptions(request));
}

/** The input the cluster's backup schedule gives each run; undefined when there is no schedule. */
export async function scheduledBackupInput(client: Client, clusterName: string): Promise<BackupEtcdInput | undefined> {
  try {
    const description = await client.schedule.getHandle(backupScheduleId(clusterName)).describe();
    return description.action.args?.[0] as BackupEtcdInput | undefined;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}
