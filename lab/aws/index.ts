/**
 * The lab's AWS: a real moto_server for the ELBv2 and EC2 APIs, the front kubeha's `aws.endpoint`
 * points at, and the load balancer data plane moto lacks (addresses, TCP proxies, health checks,
 * draining, DNS names in the hosts file). See lab/aws/README.md.
 */
import { findTool } from '../../lib/paths';
import { DEFAULT_ADDRESS_POOL } from './addressPool';
import { DataPlane } from './dataPlane';
import { type LabDns, startLabDns } from './dnsPlane';
import { EventLog } from './events';
import { FaultQueue } from './faults';
import { startFront, type Front } from './front';
import { startMotoProcess, type MotoProcess } from './motoProcess';
import type { LabAwsEvent, LabAwsOptions, LabAwsStatus, LabFaultKind, LabTargetState } from './types';

export type * from './types';
export { DEFAULT_ADDRESS_POOL, loopbackRange } from './addressPool';
export { HOSTS_BLOCK_BEGIN, HOSTS_BLOCK_END } from './hostsFile';

/** Makes the front's AWS answers fail for a while. */
export interface LabAwsFaults {
  /** The next `count` calls (of `action` only, when given) answer 400 Throttling (EC2: 503 RequestLimitExceeded). */
  throttle(count: number, action?: string): void;
  /** The next `count` calls (of `action` only, when given) answer 500 InternalFailure (EC2: InternalError). */
  serverError(count: number, action?: string): void;
  /** Forgets every pending fault. */
  clear(): void;
}

/** A target, as DescribeTargetHealth names it. */
export interface LabTargetKey {
  targetGroupArn: string;
  id: string;
  port: number;
}

/** The running lab's AWS. */
export interface LabAws {
  /** The front: kubeha's `aws.endpoint`. */
  endpoint: string;
  /** moto itself, for tools that must bypass the front. */
  motoEndpoint: string;
  motoPid?: number;
  /** Every load balancer with its address and targets, target groups, faults. */
  status(): LabAwsStatus;
  /** State transitions and other events with their times, oldest first (from `since` ms when given). */
  events(since?: number): LabAwsEvent[];
  /** Looks at moto now instead of at the next poll. */
  sync(): Promise<void>;
  /**
   * Resolves when the target is in `state` (at once if it already is; `gone` once it is forgotten),
   * with the time it got there; rejects after `timeoutMs`.
   */
  waitForTargetState(target: LabTargetKey, state: LabTargetState | 'gone', timeoutMs: number): Promise<number>;
  faults: LabAwsFaults;
  /** Stops the data plane (proxies, checks, hosts-file block), the front and moto. */
  stop(): Promise<void>;
}

/** Starts moto, the data plane and the front. Call `stop()` when done. */
export async function startLabAws(options: LabAwsOptions = {}): Promise<LabAws> {
  const host = options.host ?? '127.0.0.1';
  const regions = options.regions ?? ['us-east-1'];
  const hostsFile = options.hostsFile ?? '/etc/hosts';
  const healthCheckIntervalScale = options.healthCheckIntervalScale ?? 1;
  const deregistrationDelayScale = options.deregistrationDelayScale ?? healthCheckIntervalScale;
  if (!(healthCheckIntervalScale > 0) || !(deregistrationDelayScale >= 0))
    throw new Error('healthCheckIntervalScale must be > 0 and deregistrationDelayScale >= 0');
  const events = new EventLog(options.maxEvents);
  const faults = new FaultQueue();

  const moto: MotoProcess = await startMotoProcess(options.motoServerPath ?? findTool('moto_server', 'MOTO_SERVER_PATH'), host);
  let dataPlane: DataPlane | undefined;
  let front: Front | undefined;
  let labDns: LabDns | undefined;
  let stopping: Promise<void> | undefined;
  // Idempotent: `lab down` and a test's `after` may both call it.
  const stop = () =>
    (stopping ??= (async () => {
      await front?.close();
      await labDns?.close();
      await dataPlane?.stop();
      await moto.stop();
    })());
  try {
    dataPlane = new DataPlane({
      motoEndpoint: moto.endpoint,
      regions,
      addressPool: options.addressPool ?? DEFAULT_ADDRESS_POOL,
      hostsFile,
      hostsBlockLabel: options.hostsBlockLabel,
      scales: { healthCheckInterval: healthCheckIntervalScale, deregistrationDelay: deregistrationDelayScale },
      events,
    });
    const plane = dataPlane;
    if (options.dns) labDns = await startLabDns({ motoEndpoint: moto.endpoint, ...options.dns });
    const dns = labDns;
    let endpoint = '';
    const status = (): LabAwsStatus => ({
      endpoint,
      motoEndpoint: moto.endpoint,
      ...(moto.pid !== undefined ? { motoPid: moto.pid } : {}),
      ...(dns ? { dns: { address: dns.address, port: dns.port, answered: dns.answered() } } : {}),
      regions,
      healthCheckIntervalScale,
      deregistrationDelayScale,
      hostsFile,
      ...(options.hostsBlockLabel ? { hostsBlockLabel: options.hostsBlockLabel } : {}),
      loadBalancers: plane.loadBalancerStatus(),
      targetGroups: plane.targetGroupStatus(),
      faults: faults.list(),
      ...(plane.lastSync ? { lastSync: plane.lastSync } : {}),
    });
    front = await startFront({
      host,
      port: options.frontPort ?? 0,
      motoEndpoint: moto.endpoint,
      faults,
      events,
      describeTargetHealth: (p) => plane.describeTargetHealth(p),
      status,
    });
    endpoint = front.endpoint;
    await plane.sync();
    plane.startPolling(options.pollIntervalMs ?? 1000);

    const addFault = (kind: LabFaultKind) => (count: number, action?: string) => faults.add(kind, count, action);
    return {
      endpoint,
      motoEndpoint: moto.endpoint,
      motoPid: moto.pid,
      status,
      events: (since) => events.list(since),
      sync: () => plane.sync(),
      waitForTargetState: async (target, state, timeoutMs) => {
        const current = plane.targetState(target.targetGroupArn, target.id, target.port);
        if (current?.state === state) return current.since;
        if (state === 'gone' && current === undefined) return Date.now();
        const event = await events.next(
          (e) => e.kind === 'target' && e.targetGroupArn === target.targetGroupArn && e.id === target.id && e.port === target.port && e.to === state,
          timeoutMs,
          `target ${target.id}:${target.port} reaching ${state} (it is ${current?.state ?? 'not known'})`,
        );
        return event.at;
      },
      faults: { throttle: addFault('throttle'), serverError: addFault('server-error'), clear: () => faults.clear() },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
