/**
 * Activity proxies of the rotation (types only; the worker registers `createRotationActivities`).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { MeshActivities } from '../../activities/mesh/types';
import type { RotationActivities } from '../../activities/rotation/types';
import { defaultRetry } from '../engine/activities';

const retry: RetryPolicy = { ...defaultRetry, maximumAttempts: 5 };

/** Probing a host is quick and answers "unhealthy" instead of failing: no retries needed beyond a couple. */
export const probes = proxyActivities<Pick<RotationActivities, 'probeControlPlane' | 'certificateExpiration'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...retry, maximumAttempts: 2 },
});

/** Uploads and renewals run commands on a host; a renewal waits for the API server to come back. */
export const rotation = proxyActivities<Pick<RotationActivities, 'uploadCertificateKey' | 'renewCertificates'>>({
  startToCloseTimeout: '40 minutes',
  heartbeatTimeout: '10 seconds',
  retry,
});

/** Temporal API calls (the schedule). */
export const schedules = proxyActivities<Pick<RotationActivities, 'ensureRotationSchedule'>>({
  startToCloseTimeout: '1 minute',
  retry,
});

/** The Linkerd issuer's watch (a read) and renewal (a Secret write and a restart; the rollout is waited for apart). */
export const meshIssuer = proxyActivities<Pick<MeshActivities, 'meshIssuerExpiry' | 'renewMeshIssuer'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry,
});
