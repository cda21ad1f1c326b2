/**
 * ClusterLock: a per-cluster mutex as a workflow (see workflows/engine/clusterLock.ts for the
 * requester side). Grants one lease at a time, in request order; ends as soon as nobody holds or
 * waits, so there is no workflow per cluster running forever.
 */
import { condition, continueAsNew, getExternalWorkflowHandle, log, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  acquireLockSignal,
  type ClusterLockInput,
  type ClusterLockState,
  type LockHolder,
  type LockRequest,
  lockGrantedSignal,
  lockStateQuery,
  releaseLockSignal,
} from './engine/clusterLock';

/** Runs the lock of one cluster until it is idle. */
export async function ClusterLock(input: ClusterLockInput): Promise<ClusterLockState> {
  let holder: LockHolder | undefined = input.holder;
  let waiting: LockRequest[] = [...(input.waiting ?? [])];
  let grants = input.grants ?? 0;
  const probeInterval = `${input.probeIntervalSeconds ?? 60} seconds`;
  const state = (): ClusterLockState => ({ clusterName: input.clusterName, holder, waiting: [...waiting], grants });

  setHandler(lockStateQuery, state);
  setHandler(acquireLockSignal, (req) => {
    if (holder?.leaseId === req.leaseId || waiting.some((w) => w.leaseId === req.leaseId)) return;
    waiting.push(req);
  });
  setHandler(releaseLockSignal, ({ leaseId }) => {
    if (holder?.leaseId === leaseId) holder = undefined;
    else waiting = waiting.filter((w) => w.leaseId !== leaseId);
  });

  /** Tells a holder it holds the lease; false when its run has ended (it can never release). */
  const notify = async (to: LockRequest): Promise<boolean> => {
    try {
      await getExternalWorkflowHandle(to.workflowId, to.runId).signal(lockGrantedSignal, { leaseId: to.leaseId });
      return true;
    } catch {
      return false;
    }
  };

  for (;;) {
    if (!holder) {
      const next = waiting.shift();
      // Idle: end. A request that arrives meanwhile makes the server refuse this completion, and the
      // workflow goes on with it; one that comes after finds no lock and starts a new one.
      if (!next) return state();
      holder = { ...next, grantedAt: new Date().toISOString() };
      if (!(await notify(holder))) {
        log.warn('lock requester has ended; skipping it', { workflowId: next.workflowId, purpose: next.purpose });
        if (holder?.leaseId === next.leaseId) holder = undefined;
        continue;
      }
      grants += 1;
      continue;
    }
    const leaseId = holder.leaseId;
    const released = await condition(() => holder?.leaseId !== leaseId, probeInterval);
    if (!released && holder && !(await notify(holder))) {
      log.warn('lock holder has ended without releasing; dropping its lease', { workflowId: holder.workflowId, purpose: holder.purpose });
      if (holder?.leaseId === leaseId) holder = undefined;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof ClusterLock>({ clusterName: input.clusterName, holder, waiting, grants, probeIntervalSeconds: input.probeIntervalSeconds });
    }
  }
}
