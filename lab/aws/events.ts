/**
 * The lab's event log: state transitions with their times, kept in memory for `lab status`, tests
 * and benchmarks, with a way to wait for the next event that matches.
 */
import type { LabAwsEvent, LabAwsEventInput } from './types';

interface Waiter {
  matches: (event: LabAwsEvent) => boolean;
  resolve: (event: LabAwsEvent) => void;
}

/** An append-only (bounded) list of events that wakes whoever waits for one. */
export class EventLog {
  private readonly events: LabAwsEvent[] = [];
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly maxEvents = 10_000) {}

  /** Stamps the event with the current time, keeps it, and wakes the waiters it matches. */
  push(input: LabAwsEventInput): LabAwsEvent {
    const event = { at: Date.now(), ...input } as LabAwsEvent;
    this.events.push(event);
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    for (const waiter of [...this.waiters]) {
      if (waiter.matches(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
    return event;
  }

  /** The events kept, oldest first; only those at or after `since` (ms) when given. */
  list(since?: number): LabAwsEvent[] {
    return since === undefined ? [...this.events] : this.events.filter((e) => e.at >= since);
  }

  /** Resolves with the next event that matches; rejects after `timeoutMs`, naming what it waited for. */
  next(matches: (event: LabAwsEvent) => boolean, timeoutMs: number, what: string): Promise<LabAwsEvent> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        matches,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`the lab's AWS saw no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
