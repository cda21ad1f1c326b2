/**
 * Health checks as an NLB runs them. TCP: a connection that opens within the timeout passes, then is
 * closed at once. HTTP/HTTPS: a GET of the path that answers within the timeout with a status the
 * matcher lists passes (the certificate is not checked, as AWS does not). Consecutive results count
 * towards the healthy and unhealthy thresholds.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

/** True when `GET path` on host:port answers within `timeoutMs` with one of `codes` (AWS matcher syntax: "200", "200-299", "200,202"). */
export function probeHttp(protocol: 'HTTP' | 'HTTPS', host: string, port: number, path: string, codes: string, timeoutMs: number): Promise<boolean> {
  const accepts = (status: number) =>
    codes.split(',').some((part) => {
      const [low, high] = part.trim().split('-').map(Number);
      return high === undefined ? status === low : status >= low && status <= high;
    });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(ok);
    };
    const options = { host, port, path, method: 'GET', agent: false as const, rejectUnauthorized: false, headers: { 'User-Agent': 'ELB-HealthChecker/2.0' } };
    const req = protocol === 'HTTPS' ? httpsRequest(options) : httpRequest(options);
    const timer = setTimeout(() => finish(false), timeoutMs);
    req.once('response', (res) => {
      res.resume();
      finish(accepts(res.statusCode ?? 0));
    });
    req.once('error', () => finish(false));
    req.end();
  });
}

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
