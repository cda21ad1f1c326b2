/**
 * One operation at a time on a cluster's certificate key. A new certificate key invalidates the one a
 * running control-plane join uses (kubeadm: "cipher: message authentication failed"), so key uploads
 * (RotateCertificateKey, BootstrapStackedEtcd's credential refresh) and control-plane joins take the
 * cluster's lock first.
 *
 * The lock is a workflow (ClusterLock, id `cluster-lock-<taskQueue>-<cluster>`) that queues requests
 * and grants them one at a time by signalling the requester back. It lives only while someone holds or
 * waits for it. A holder that ends without releasing (terminated, reset) is detected by the lock's
 * periodic re-signal failing, and its lease is dropped.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { type Duration, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ErrorType, kubehaFailure } from '../../common/errors';
import {
  acquireLockSignal,
  CLUSTER_LOCK_WORKFLOW,
  type ClusterLockInput,
  clusterLockId,
  type LockRequest,
  lockGrantedSignal,
  releaseLockSignal,
} from './protocol';

/** Per run: leases granted to this workflow, and the locks it holds (re-entrant). */
const granted = new Set<string>();
const held = new Map<string, { leaseId: string }>();
let handlerInstalled = false;

function installGrantHandler(): void {
  if (handlerInstalled) return;
  handlerInstalled = true;
  setHandler(lockGrantedSignal, ({ leaseId }) => {
    granted.add(leaseId);
  });
}

/** Queues the request: starts the lock workflow with it, or signals the running one. */
async function request(lockId: string, clusterName: string, req: LockRequest): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await startChild(CLUSTER_LOCK_WORKFLOW, {
        workflowId: lockId,
        args: [{ clusterName, waiting: [req] } satisfies ClusterLockInput],
        // The lock outlives this run and is never cancelled with it: other holders depend on it.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        cancellationType: ChildWorkflowCancellationType.ABANDON,
      });
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    try {
      await getExternalWorkflowHandle(lockId).signal(acquireLockSignal, req);
      return;
    } catch (err) {
      // The lock ended between our start attempt and the signal: start it again.
      if (attempt >= 10) throw err;
      await sleep(200 * attempt);
    }
  }
}

async function release(lockId: string, leaseId: string): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    try {
      await getExternalWorkflowHandle(lockId).signal(releaseLockSignal, { leaseId });
    } catch {
      // The lock is gone: nothing is held any more.
    }
  });
}

/** Options of {@link withClusterLock}. */
export interface ClusterLockOptions {
  /** How long to wait for the lock before failing. Default 90 minutes. */
  timeout?: Duration;
  /**
   * Called once the request is queued, before waiting (progress: "waiting for the cluster lock"), with
   * the lock workflow's id, whose `lockState` query names the holder.
   */
  onWaiting?: (lockId: string) => void;
  /** Called once the lock is held. */
  onAcquired?: () => void;
}

/**
 * Runs `fn` holding the cluster's lock. Re-entrant within a run: a nested call for the same cluster
 * runs at once. The lock is released when `fn` settles, also on failure or cancellation.
 */
export async function withClusterLock<T>(clusterName: string, purpose: string, fn: () => Promise<T>, options: ClusterLockOptions = {}): Promise<T> {
  if (held.has(clusterName)) return fn();
  installGrantHandler();
  const info = workflowInfo();
  const lockId = clusterLockId(clusterName, info.taskQueue);
  const leaseId = uuid4();
  const req: LockRequest = { leaseId, workflowId: info.workflowId, runId: info.runId, purpose, requestedAt: new Date().toISOString() };
  await request(lockId, clusterName, req);
  options.onWaiting?.(lockId);
  let got: boolean;
  try {
    got = await condition(() => granted.has(leaseId), options.timeout ?? '90 minutes');
  } catch (err) {
    await release(lockId, leaseId);
    throw err;
  }
  if (!got) {
    await release(lockId, leaseId);
    throw kubehaFailure({
      type: ErrorType.Conflict,
      message: `waited too long for the lock of cluster ${clusterName} (to ${purpose})`,
      retryable: true,
      hint: `another key upload or control-plane join holds it; see the "lockState" query of workflow ${lockId}`,
    });
  }
  held.set(clusterName, { leaseId });
  options.onAcquired?.();
  try {
    return await fn();
  } finally {
    held.delete(clusterName);
    granted.delete(leaseId);
    await release(lockId, leaseId);
  }
}
