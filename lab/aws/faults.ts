/**
 * Faults the front injects into AWS API calls, so kubeha's retry handling meets throttling and
 * server errors the way AWS serves them.
 */
import type { LabFaultKind, LabFaultStatus } from './types';

/** The faults waiting to hit calls, applied in the order they were added. */
export class FaultQueue {
  private readonly pending: LabFaultStatus[] = [];

  /** The next `count` calls (of `action` only, when given) fail with `kind`. */
  add(kind: LabFaultKind, count: number, action?: string): void {
    if (!Number.isInteger(count) || count < 1) throw new Error(`a fault needs a positive whole number of calls, got ${count}`);
    this.pending.push(action ? { kind, remaining: count, action } : { kind, remaining: count });
  }

  /** Takes one call's worth of the first fault that applies to `action`, if any. */
  take(action: string | undefined): LabFaultKind | undefined {
    const index = this.pending.findIndex((f) => f.action === undefined || f.action === action);
    if (index < 0) return undefined;
    const fault = this.pending[index] as LabFaultStatus;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.pending.splice(index, 1);
    return fault.kind;
  }

  /** Forgets every pending fault. */
  clear(): void {
    this.pending.length = 0;
  }

  /** The pending faults, for status. */
  list(): LabFaultStatus[] {
    return this.pending.map((f) => ({ ...f }));
  }
}
