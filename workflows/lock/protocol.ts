/**
 * How a workflow and the cluster's lock (ClusterLock) talk: the lock's workflow id, what it keeps, and
 * the signals and query between them.
 */
import { defineQuery, defineSignal, workflowInfo } from '@temporalio/workflow';

/** A request for the lock, as the lock workflow keeps it. */
export interface LockRequest {
  leaseId: string;
  workflowId: string;
  runId: string;
  /** What the requester will do, for operators ("join cp-2 as control plane"). */
  purpose: string;
  requestedAt: string;
}

/** The current holder, with when it got the lock. */
export interface LockHolder extends LockRequest {
  grantedAt: string;
}

/** The input of ClusterLock (also what it continues-as-new with). */
export interface ClusterLockInput {
  clusterName: string;
  holder?: LockHolder;
  waiting?: LockRequest[];
  /** How often the holder is checked to still run. Default 60. */
  probeIntervalSeconds?: number;
  /** Grants so far (across continue-as-new). */
  grants?: number;
}

/** The answer of the lock's `lockState` query. */
export interface ClusterLockState {
  clusterName: string;
  holder?: LockHolder;
  waiting: LockRequest[];
  grants: number;
}

/** Lock workflow signals: ask, and give back (or withdraw a request). */
export const acquireLockSignal = defineSignal<[LockRequest]>('acquireLock');
export const releaseLockSignal = defineSignal<[{ leaseId: string }]>('releaseLock');
/** Sent by the lock to a requester when its lease is granted (and again, as a liveness probe, while held). */
export const lockGrantedSignal = defineSignal<[{ leaseId: string }]>('clusterLockGranted');
/** The lock's state: holder and queue. */
export const lockStateQuery = defineQuery<ClusterLockState>('lockState');

/** The workflow type of the lock. */
export const CLUSTER_LOCK_WORKFLOW = 'ClusterLock';

/**
 * The lock's workflow id. The task queue is part of it because the lock runs on the requester's task
 * queue: workflows of one kubeha deployment (one task queue) exclude each other.
 */
export function clusterLockId(clusterName: string, taskQueue: string = workflowInfo().taskQueue): string {
  return `cluster-lock-${taskQueue}-${clusterName}`;
}
