/**
 * TCP health checks as an NLB runs them: a connection that opens within the timeout passes, then is
 * closed at once; consecutive results count towards the healthy and unhealthy thresholds.
 */
import { connect } from 'node:net';

/** True when a TCP connection to host:port opens within `timeoutMs`. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** The health-checked states (`initial` until a threshold decides). */
export type CheckedState = 'initial' | 'healthy' | 'unhealthy';

/** A target's health-check tally. */
export interface HealthTally {
  state: CheckedState;
  /** Consecutive passes. */
  passes: number;
  /** Consecutive failures. */
  failures: number;
}

/** The thresholds of a target group. */
export interface Thresholds {
  healthyThreshold: number;
  unhealthyThreshold: number;
}

/**
 * The tally after one more check: `healthyThreshold` consecutive passes make a target that is not
 * healthy healthy; `unhealthyThreshold` consecutive failures make a target that is not unhealthy
 * unhealthy (from `initial` too, as AWS does).
 */
export function afterCheck(tally: HealthTally, passed: boolean, thresholds: Thresholds): HealthTally {
  if (passed) {
    const passes = tally.passes + 1;
    const state = tally.state !== 'healthy' && passes >= thresholds.healthyThreshold ? 'healthy' : tally.state;
    return { state, passes, failures: 0 };
  }
  const failures = tally.failures + 1;
  const state = tally.state !== 'unhealthy' && failures >= thresholds.unhealthyThreshold ? 'unhealthy' : tally.state;
  return { state, passes: 0, failures };
}
