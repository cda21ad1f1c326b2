/**
 * ClusterLock: a per-cluster mutex as a workflow (see withClusterLock.ts for the requester side).
 * Grants one lease at a time, in request order; ends as soon as nobody holds or waits, so there is no
 * workflow per cluster running forever.
 */
import { condition, continueAsNew, getExternalWorkflowHandle, log, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  acquireLockSignal,
  type ClusterLockInput,
  type ClusterLockState,
  type LockRequest,
  lockGrantedSignal,
  lockStateQuery,
  releaseLockSignal,
} from './protocol';
import { LockQueue } from './queue';

/** Runs the lock of one cluster until it is idle. */
export async function ClusterLock(input: ClusterLockInput): Promise<ClusterLockState> {
  const queue = new LockQueue(input);
  const probeInterval = `${input.probeIntervalSeconds ?? 60} seconds`;

  setHandler(lockStateQuery, () => queue.state());
  setHandler(acquireLockSignal, (req) => queue.acquire(req));
  setHandler(releaseLockSignal, (lease) => queue.release(lease));

  for (;;) {
    if (!queue.holder) {
      const holder = queue.next();
      // Idle: end. A request that arrives meanwhile makes the server refuse this completion, and the
      // workflow goes on with it; one that comes after finds no lock and starts a new one.
      if (!holder) return queue.state();
      if (!(await notify(holder))) {
        log.warn('lock requester has ended; skipping it', { workflowId: holder.workflowId, purpose: holder.purpose });
        queue.drop(holder.leaseId);
        continue;
      }
      queue.granted();
      continue;
    }
    const leaseId = queue.holder.leaseId;
    const released = await condition(() => queue.holder?.leaseId !== leaseId, probeInterval);
    if (!released && queue.holder && !(await notify(queue.holder))) {
      const { workflowId, purpose } = queue.holder;
      log.warn('lock holder has ended without releasing; dropping its lease', { workflowId, purpose });
      queue.drop(leaseId);
    }
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof ClusterLock>(queue.carried());
    }
  }
}

/** Tells a holder it holds the lease; false when its run has ended (it can never release). */
async function notify(to: LockRequest): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(to.workflowId, to.runId).signal(lockGrantedSignal, { leaseId: to.leaseId });
    return true;
  } catch {
    return false;
  }
}
