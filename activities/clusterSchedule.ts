/**
 * What every per-cluster Temporal Schedule of kubeha shares (the certificate-key rotation's, the etcd
 * backup's): an interval with jitter, overlap SKIP (a run still going is never doubled), a catch-up
 * window, runs that never hold on a failed step; bad settings refused before any call; creating one
 * that exists updates it and keeps its paused state.
 */
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { ErrorType, kubehaFailure } from '../common/errors';
import { parseDuration } from '../common/inputs/rotateCertificateKey';

/** The refusal of a schedule's settings or input, every bad field named. */
export function invalidSchedule(what: string, issues: { path: string; message: string }[]): Error {
  return kubehaFailure({
    type: ErrorType.InvalidInput,
    message: `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    retryable: false,
    hint: 'fix the named fields; no schedule was changed',
    details: { issues },
  });
}

/** A cluster schedule's parts, its settings already validated. */
export interface ClusterScheduleParts {
  scheduleId: string;
  workflowType: string;
  workflowId: string;
  staticSummary: string;
  taskQueue: string;
  /** The workflow input as written (the workflow validates again and applies the defaults itself). */
  workflowInput: object;
  settings: { every: string; jitter: string; catchupWindow: string; paused: boolean };
}

/** The schedule's options from its validated parts. */
export function clusterScheduleOptions(parts: ClusterScheduleParts): ScheduleOptions {
  const s = parts.settings;
  return {
    scheduleId: parts.scheduleId,
    spec: { intervals: [{ every: parseDuration(s.every) as number }], jitter: parseDuration(s.jitter) as number },
    action: {
      type: 'startWorkflow',
      workflowType: parts.workflowType,
      // A scheduled run never holds on a failed step: with overlap SKIP a held run would skip every later
      // run (rotations while the uploaded certificates lapse, backups). It fails, visibly, and the next one runs.
      args: [{ ...parts.workflowInput, onFailure: 'fail' }],
      taskQueue: parts.taskQueue,
      workflowId: parts.workflowId,
      staticSummary: parts.staticSummary,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: parseDuration(s.catchupWindow) as number, pauseOnFailure: false },
    state: { paused: s.paused, note: s.paused ? 'created paused' : undefined },
  };
}

/** Creates the schedule, or updates spec, action and policies of the existing one (its paused state is kept). */
export async function createOrUpdateSchedule(client: Client, options: ScheduleOptions): Promise<{ scheduleId: string; created: boolean }> {
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
