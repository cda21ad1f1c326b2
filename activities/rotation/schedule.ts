/**
 * The rotation's Temporal Schedule: one per cluster (`rotate-certificate-key-<cluster>`), an interval
 * with jitter, overlap SKIP (a run still going is never doubled), a catch-up window. Shared by the
 * `ensureRotationSchedule` activity and `kubeha schedule rotate`; creating one that exists updates it.
 */
import type { Client, ScheduleOptions } from '@temporalio/client';
import {
  rotateCertificateKeyInputSchema,
  type RotateCertificateKeyInput,
  rotationScheduleId,
  rotationScheduleSchema,
  type RotationScheduleInput,
} from '../../common/inputs/rotateCertificateKey';
import { inputIssues } from '../../common/validation';
import { clusterScheduleOptions, createOrUpdateSchedule, invalidSchedule } from '../clusterSchedule';

/** The workflow type the schedule starts. */
export const ROTATION_WORKFLOW = 'RotateCertificateKey';

/** What a rotation schedule is made of. */
export interface RotationScheduleRequest {
  clusterName: string;
  schedule: RotationScheduleInput;
  workflowInput: RotateCertificateKeyInput;
  taskQueue: string;
}

/** The schedule's options, validated (settings and the input each run gets). */
export function rotationScheduleOptions(request: RotationScheduleRequest): ScheduleOptions {
  const settings = rotationScheduleSchema.safeParse(request.schedule);
  if (!settings.success) throw invalidSchedule('rotation schedule', inputIssues(settings.error));
  const input = rotateCertificateKeyInputSchema.safeParse(request.workflowInput);
  if (!input.success) throw invalidSchedule('RotateCertificateKey input of the schedule', inputIssues(input.error));
  if (input.data.clusterName !== request.clusterName)
    throw invalidSchedule('rotation schedule', [
      { path: 'workflowInput.clusterName', message: `is "${input.data.clusterName}", not the schedule's cluster "${request.clusterName}"` },
    ]);
  return clusterScheduleOptions({
    scheduleId: rotationScheduleId(request.clusterName),
    workflowType: ROTATION_WORKFLOW,
    workflowId: `rotate-certificate-key-${request.clusterName}`,
    staticSummary: `certificate-key rotation of cluster ${request.clusterName}`,
    taskQueue: request.taskQueue,
    workflowInput: request.workflowInput,
    settings: settings.data,
  });
}

/** Creates the schedule, or updates spec, action and policies of the existing one (its paused state is kept). */
export async function ensureRotationSchedule(client: Client, request: RotationScheduleRequest): Promise<{ scheduleId: string; created: boolean }> {
  return createOrUpdateSchedule(client, rotationScheduleOptions(request));
}
