/**
 * The rotation's Temporal Schedule: one per cluster (`rotate-certificate-key-<cluster>`), an interval
 * with jitter, overlap SKIP (a run still going is never doubled), a catch-up window. Shared by the
 * `ensureRotationSchedule` activity and `kubeha schedule rotate`; creating one that exists updates it.
 */
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { ErrorType, kubehaFailure } from '../../common/errors';
import {
  parseDuration,
  rotateCertificateKeyInputSchema,
  type RotateCertificateKeyInput,
  rotationScheduleId,
  rotationScheduleSchema,
  type RotationScheduleInput,
} from '../../common/inputs/rotateCertificateKey';
import { inputIssues } from '../../common/validation';

/** The workflow type the schedule starts. */
export const ROTATION_WORKFLOW = 'RotateCertificateKey';

/** What a rotation schedule is made of. */
export interface RotationScheduleRequest {
  clusterName: string;
  schedule: RotationScheduleInput;
  workflowInput: RotateCertificateKeyInput;
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
export function rotationScheduleOptions(request: RotationScheduleRequest): ScheduleOptions {
  const settings = rotationScheduleSchema.safeParse(request.schedule);
  if (!settings.success) throw invalid('rotation schedule', inputIssues(settings.error));
  const input = rotateCertificateKeyInputSchema.safeParse(request.workflowInput);
  if (!input.success) throw invalid('RotateCertificateKey input of the schedule', inputIssues(input.error));
  if (input.data.clusterName !== request.clusterName)
    throw invalid('rotation schedule', [
      { path: 'workflowInput.clusterName', message: `is "${input.data.clusterName}", not the schedule's cluster "${request.clusterName}"` },
    ]);
  const s = settings.data;
  return {
    scheduleId: rotationScheduleId(request.clusterName),
    spec: { intervals: [{ every: parseDuration(s.every) as number }], jitter: parseDuration(s.jitter) as number },
    action: {
      type: 'startWorkflow',
      workflowType: ROTATION_WORKFLOW,
      // The input as written (the workflow validates again and applies the defaults itself), except
      // that a scheduled run never holds on a failed step: with overlap SKIP a held run would skip every
      // later rotation while the uploaded certificates lapse. It fails, visibly, and the next one runs.
      args: [{ ...request.workflowInput, onFailure: 'fail' }],
      taskQueue: request.taskQueue,
      workflowId: `rotate-certificate-key-${request.clusterName}`,
      staticSummary: `certificate-key rotation of cluster ${request.clusterName}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: parseDuration(s.catchupWindow) as number, pauseOnFailure: false },
    state: { paused: s.paused, note: s.paused ? 'created paused' : undefined },
  };
}

/** Creates the schedule, or updates spec, action and policies of the existing one (its paused state is kept). */
export async function ensureRotationSchedule(client: Client, request: RotationScheduleRequest): Promise<{ scheduleId: string; created: boolean }> {
  const options = rotationScheduleOptions(request);
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
