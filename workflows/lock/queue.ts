/**
 * The lock's holder and queue. The lock's signal and query handlers call this class and nothing else;
 * the workflow grants, probes and drops leases through it.
 */
import type { ClusterLockInput, ClusterLockState, LockHolder, LockRequest } from './protocol';

export class LockQueue {
  private current?: LockHolder;
  private waiting: LockRequest[];
  private grants: number;

  constructor(private readonly input: ClusterLockInput) {
    this.current = input.holder;
    this.waiting = [...(input.waiting ?? [])];
    this.grants = input.grants ?? 0;
  }

  /** Who holds the lock now. */
  get holder(): LockHolder | undefined {
    return this.current;
  }

  /** Query `lockState`. */
  state(): ClusterLockState {
    return { clusterName: this.input.clusterName, holder: this.current, waiting: [...this.waiting], grants: this.grants };
  }

  /** Signal `acquireLock`: queued once, however often it is delivered. */
  acquire(req: LockRequest): void {
    if (this.current?.leaseId === req.leaseId || this.waiting.some((w) => w.leaseId === req.leaseId)) return;
    this.waiting.push(req);
  }

  /** Signal `releaseLock`: the holder gives the lock back, or a waiting request is withdrawn. */
  release({ leaseId }: { leaseId: string }): void {
    if (this.current?.leaseId === leaseId) this.current = undefined;
    else this.waiting = this.waiting.filter((w) => w.leaseId !== leaseId);
  }

  /** Hands the lock to the first waiting request; undefined when nobody waits. */
  next(): LockHolder | undefined {
    const next = this.waiting.shift();
    if (!next) return undefined;
    this.current = { ...next, grantedAt: new Date().toISOString() };
    return this.current;
  }

  /** Counts a grant its requester was told of. */
  granted(): void {
    this.grants += 1;
  }

  /** Drops a lease whose holder has ended, if it still holds the lock. */
  drop(leaseId: string): void {
    if (this.current?.leaseId === leaseId) this.current = undefined;
  }

  /** What the next run starts from (continue-as-new). */
  carried(): ClusterLockInput {
    return {
      clusterName: this.input.clusterName,
      holder: this.current,
      waiting: this.waiting,
      grants: this.grants,
      probeIntervalSeconds: this.input.probeIntervalSeconds,
    };
  }
}
