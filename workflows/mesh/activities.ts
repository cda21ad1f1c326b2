/**
 * Activity proxies of LinkMeshClusters, with the timeouts and retry policies each kind of work needs.
 * Types only from the activities: the worker registers the implementations.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { MeshActivities } from '../../activities/mesh/types';
import type { KubernetesActivities } from '../../activities/types';
import { defaultRetry } from '../engine/activities';

/** Reads, checks and small writes through the API (preflight, trust, checks, labels, split objects). */
export const mesh = proxyActivities<MeshActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: defaultRetry,
});

/** The linkerd CLI renders, then a server-side apply of the result (CRDs wait to be Established). */
export const meshInstall = proxyActivities<Pick<MeshActivities, 'installLinkerdCrds' | 'installControlPlane' | 'installMulticluster' | 'linkClusters'>>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...defaultRetry, maximumAttempts: 5 },
});

/** Long waits that poll and heartbeat (rollouts, mirrors); their own deadlines end them. */
export const meshWaits = proxyActivities<Pick<MeshActivities, 'waitMirrors'> & Pick<KubernetesActivities, 'waitRollout'>>({
  startToCloseTimeout: '125 minutes',
  heartbeatTimeout: '10 seconds',
  retry: defaultRetry,
});
