/**
 * What the fake worlds of the workflow tests count, so that "no side effect was repeated" can fail:
 * - every call of an activity whose job is to change the world, once it returned successfully, keyed by
 *   activity and subject (`kubeadmInit:cp-1`), whether or not the stub found work left to do;
 * - the effects themselves (`init`, `join:cp-2`), which the check-first stubs perform at most once.
 * A workflow that asks twice for a change it already got is reported by {@link ChangeLedger.repeated},
 * even though the idempotent stub changed nothing the second time.
 */
export class ChangeLedger {
  /** Successful calls of world-changing activities in the current run, by `activity:subject`. */
  readonly changeCalls = new Map<string, number>();
  /** Effects performed since the world was made, by kind (`create-lb`, `join:<host>`, ...). */
  readonly actions = new Map<string, number>();

  /** Counts one effect. */
  act(kind: string): void {
    this.actions.set(kind, (this.actions.get(kind) ?? 0) + 1);
  }

  /** Counts one successful call of a world-changing activity. */
  called(key: string): void {
    this.changeCalls.set(key, (this.changeCalls.get(key) ?? 0) + 1);
  }

  /** Starts a new run against the same world: calls are counted afresh, effects are kept. */
  newRun(): void {
    this.changeCalls.clear();
  }

  /** Changes asked for more than once in this run, and effects performed more than once. */
  repeated(): string[] {
    const twice = (map: Map<string, number>) => [...map].filter(([, n]) => n > 1).map(([k]) => k);
    return [...twice(this.changeCalls), ...twice(this.actions)];
  }
}
