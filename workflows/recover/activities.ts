/**
 * Activity proxies of RecoverControlPlane (types only; the worker registers `createRecoveryActivities`).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RecoveryActivities } from '../../activities/recovery/types';
import { defaultRetry } from '../engine/activities';

/** Asking one member about itself: quick, and an unreachable host is an answer, not an error. */
export const members = proxyActivities<Pick<RecoveryActivities, 'probeEtcdMember'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...defaultRetry, maximumAttempts: 3 },
});

/** Waiting for lost hosts to come back: as long as the input allows (its own deadline ends it); heartbeats catch a dead worker. */
export const comeback = proxyActivities<Pick<RecoveryActivities, 'waitHostsBack'>>({
  startToCloseTimeout: '31 days',
  heartbeatTimeout: '1 minute',
  retry: defaultRetry,
});

/** A stale host's `kubeadm reset -f`. */
export const stale = proxyActivities<Pick<RecoveryActivities, 'resetStaleMember'>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...defaultRetry, maximumAttempts: 5 },
});

/** Finding the backup to restore from: a listing, read-only. */
export const backups = proxyActivities<Pick<RecoveryActivities, 'findRecoveryBackup'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: { ...defaultRetry, maximumAttempts: 5 },
});

/**
 * The restore waits for the kubelet to restart etcd twice (each within its 3-minute wait); from a
 * snapshot it also writes the snapshot onto the host, heartbeating per slice.
 */
export const restores = proxyActivities<Pick<RecoveryActivities, 'restoreEtcdFromSurvivor' | 'restoreEtcdFromSnapshot'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...defaultRetry, maximumAttempts: 5 },
});
