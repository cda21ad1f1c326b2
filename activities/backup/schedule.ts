/**
 * The backup's Temporal Schedule: one per cluster (`backup-etcd-<cluster>`), an interval with jitter,
 * overlap SKIP, a catch-up window. Creating one that exists updates it (its paused state is kept).
 * Each scheduled run's workflow id is `backup-etcd-<cluster>-<scheduled time>` (Temporal appends the
 * time), which is what makes its backup id stable across the run's retries.
 */
import { type Client, ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { type BackupEtcdInput, backupEtcdInputSchema, backupScheduleId, backupScheduleSchema, type BackupScheduleInput } from '../../common/inputs/backupEtcd';
import { parseDuration } from '../../common/inputs/rotateCertificateKey';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { inputIssues } from '../../common/validation';

/** The workflow type the schedule starts. */
export const BACKUP_WORKFLOW = 'BackupEtcd';

/** What a backup schedule is made of. */
export interface BackupScheduleRequest {
  clusterName: string;
  schedule: BackupScheduleInput;
  workflowInput: BackupEtcdInput;
  taskQueue: string;
}

function invalid(what: string, issues: { path: string; message: string }[]): Error {
  return kubehaFailure({
    type: ErrorType.InvalidInput,
    message: `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    retryable: false,
    hint: 'fix the named fields; no schedule was changed',
    details: { issues },
  });
}

/** The schedule's options, validated (settings and the input each run gets). */
export function backupScheduleOptions(request: BackupScheduleRequest): ScheduleOptions {
  const settings = backupScheduleSchema.safeParse(request.schedule);
  if (!settings.success) throw invalid('backup schedule', inputIssues(settings.error));
  const input = backupEtcdInputSchema.safeParse(request.workflowInput);
  if (!input.success) throw invalid('BackupEtcd input of the schedule', inputIssues(input.error));
  if (input.data.clusterName !== request.clusterName)
    throw invalid('backup schedule', [
      { path: 'workflowInput.clusterName', message: `is "${input.data.clusterName}", not the schedule's cluster "${request.clusterName}"` },
    ]);
  const s = settings.data;
  return {
    scheduleId: backupScheduleId(request.clusterName),
    spec: { intervals: [{ every: parseDuration(s.every) as number }], jitter: parseDuration(s.jitter) as number },
    action: {
      type: 'startWorkflow',
      workflowType: BACKUP_WORKFLOW,
      // A scheduled run never holds on a failed step: with overlap SKIP it would skip every later backup.
      args: [{ ...request.workflowInput, onFailure: 'fail' }],
      taskQueue: request.taskQueue,
      workflowId: backupScheduleId(request.clusterName),
      staticSummary: `etcd backup of cluster ${request.clusterName}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: parseDuration(s.catchupWindow) as number, pauseOnFailure: false },
    state: { paused: s.paused, note: s.paused ? 'created paused' : undefined },
  };
}

/** Creates the schedule, or updates spec, action and policies of the existing one. */
export async function ensureBackupSchedule(client: Client, request: BackupScheduleRequest): Promise<{ scheduleId: string; created: boolean }> {
  const options = backupScheduleOptions(request);
  try {
    await client.schedule.create(options);
    return { scheduleId: options.scheduleId, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(options.scheduleId).update((previous) => ({
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    state: { paused: previous.state.paused, note: previous.state.note, remainingActions: previous.state.remainingActions },
  }));
  return { scheduleId: options.scheduleId, created: false };
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
