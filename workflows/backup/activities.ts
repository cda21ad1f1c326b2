/**
 * Activity proxies of BackupEtcd (types only; the worker registers `createBackupActivities`).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BackupActivities } from '../../activities/backup/types';
import { defaultRetry } from '../engine/activities';

/** Asking etcd who is healthy is quick. */
export const voters = proxyActivities<Pick<BackupActivities, 'selectEtcdVoter'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...defaultRetry, maximumAttempts: 3 },
});

/** A snapshot of a large etcd and its upload take a while; the activity heartbeats per command. */
export const backups = proxyActivities<Pick<BackupActivities, 'backupEtcdSnapshot'>>({
  startToCloseTimeout: '60 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { ...defaultRetry, maximumAttempts: 4 },
});

/** S3 listing and deletes. */
export const store = proxyActivities<Pick<BackupActivities, 'pruneBackups'>>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: defaultRetry,
});
