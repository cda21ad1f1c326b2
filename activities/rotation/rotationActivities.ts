/**
 * The rotation activities, built on the host activities' runner (activities/hosts/context.ts) and a
 * Temporal client for the schedule.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { type HostActivityDeps, HostRunner } from '../hosts/context';
import { certificateExpiration, renewCertificates } from './certificates';
import { probeControlPlane } from './probe';
import { ensureRotationSchedule } from './schedule';
import type { RotationActivities } from './types';
import { uploadCertificateKey } from './upload';

/** What the rotation activities need. */
export interface RotationActivityDeps extends HostActivityDeps {
  /** The Temporal client the schedule is managed with (connected lazily by the worker). */
  temporal?: () => Promise<Client>;
  /** Task queue of scheduled runs when not known from the activity context. Default `kubeha`. */
  taskQueue?: string;
}

function currentTaskQueue(fallback: string): string {
  try {
    return Context.current().info.taskQueue;
  } catch {
    return fallback; // not inside an activity (plain tests)
  }
}

/** Builds the rotation activities around an injected shell, secret store and Temporal client. */
export function createRotationActivities(deps: RotationActivityDeps): RotationActivities {
  const run = new HostRunner(deps);
  return {
    probeControlPlane: (input) => probeControlPlane(run, input.host),
    uploadCertificateKey: (input) => uploadCertificateKey(run, input),
    certificateExpiration: (input) => certificateExpiration(run, input.host),
    renewCertificates: (input) => renewCertificates(run, input),
    async ensureRotationSchedule(input) {
      if (!deps.temporal) {
        throw kubehaFailure({
          type: ErrorType.Conflict,
          message: 'this worker has no Temporal client for schedules',
          retryable: false,
          hint: 'build the rotation activities with `temporal` (the worker does)',
        });
      }
      const client = await deps.temporal();
      // Scheduled runs go to the task queue of the worker that runs this activity: the same kubeha.
      return ensureRotationSchedule(client, { ...input, taskQueue: currentTaskQueue(deps.taskQueue ?? 'kubeha') });
    },
  };
}
