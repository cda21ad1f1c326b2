/**
 * A stand-in world for FailoverToEast's WORKFLOW tests: service readiness per cluster, the splits'
 * weights and their Events, on top of the shared FakeWorld (load balancer targets, etcd members).
 * Each stub checks its state first and acts only when needed; `count` tells how often a side effect
 * happened, so a test proves nothing was done twice.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { FailoverActivities, ServiceReadiness } from '../../activities/failover/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { AlertNotification, FailoverToEastInput } from '../../common/inputs/failoverToEast';
import { FakeWorld } from '../support/fakeWorld';
import { FakeRoute53 } from './fakeRoute53';

/** The kubeconfig secrets the inputs name. */
export const WEST = 'clusters/west/admin-kubeconfig';
export const EAST = 'clusters/east/admin-kubeconfig';

/** A failure to inject into setSplitWeights when it is asked for `eastPercent`. */
export interface SplitInjection {
  eastPercent: number;
  times: number;
  error: () => Error;
}

/** The failover world. */
export class FakeFailoverWorld extends FakeWorld {
  /** Ready endpoints per `secret|namespace/name`; absent means 1 ready. -1: the Service does not exist. */
  readonly readiness = new Map<string, number>();
  /** Route 53's weighted records. */
  readonly route53 = new FakeRoute53();
  /** Clusters whose API does not answer. */
  readonly unreachable = new Set<string>();
  /** Weights per split `namespace/name`. */
  readonly splits = new Map<string, { west: number; east: number }>();
  readonly events = new Set<string>();
  readonly splitInjections: SplitInjection[] = [];
  /** How many batched readiness probes ran (one per check round). */
  probeRounds = 0;
  /** Every eastPercent setSplitWeights was asked for, in order. */
  readonly shiftRequests: number[] = [];
  /** When each setSplitWeights call arrived (performance.now(), for benchmarks in the same process). */
  readonly shiftTimes: number[] = [];

  /** Sets the ready endpoints of a service. */
  setReady(secret: string, namespace: string, name: string, ready: number): void {
    this.readiness.set(`${secret}|${namespace}/${name}`, ready);
  }

  private reach(secret: string): void {
    if (this.unreachable.has(secret)) {
      throw kubehaFailure({ type: ErrorType.Unreachable, message: `API server of ${secret} unreachable (ECONNREFUSED)`, retryable: true, hint: 'test' });
    }
  }

  /** The failover stubs. */
  failoverActivities(): FailoverActivities {
    return {
      serviceReadiness: async (input) => {
        this.reach(input.kubeconfigSecret);
        const ready = this.readiness.get(`${input.kubeconfigSecret}|${input.namespace}/${input.name}`) ?? 1;
        const result: ServiceReadiness = {
          service: `${input.namespace}/${input.name}`,
          ready: Math.max(ready, 0),
          notReady: ready <= 0 ? 1 : 0,
          source: 'EndpointSlice',
          serviceExists: ready >= 0,
        };
        return result;
      },
      servicesReadiness: async (input) => {
        this.probeRounds += 1;
        return input.services.map(({ namespace, name }) => {
          if (this.unreachable.has(input.kubeconfigSecret))
            return { service: `${namespace}/${name}`, error: `API server of ${input.kubeconfigSecret} unreachable (ECONNREFUSED)` };
          const ready = this.readiness.get(`${input.kubeconfigSecret}|${namespace}/${name}`) ?? 1;
          return {
            service: `${namespace}/${name}`,
            readiness: {
              service: `${namespace}/${name}`,
              ready: Math.max(ready, 0),
              notReady: ready <= 0 ? 1 : 0,
              source: 'EndpointSlice' as const,
              serviceExists: ready >= 0,
            },
          };
        });
      },
      readSplit: async (input) => {
        const w = this.splits.get(`${input.namespace}/${input.name}`) ?? { west: 100, east: 0 };
        return { ...w, eastPercent: Math.round((w.east / (w.west + w.east)) * 100), resourceVersion: '1' };
      },
      setSplitWeights: async (input) => {
        this.reach(input.kubeconfigSecret);
        this.shiftRequests.push(input.eastPercent);
        this.shiftTimes.push(performance.now());
        const key = `${input.namespace}/${input.name}`;
        const before = this.splits.get(key) ?? { west: 100, east: 0 };
        const injection = this.splitInjections.find((i) => i.eastPercent === input.eastPercent && i.times > 0);
        if (injection) {
          injection.times -= 1;
          throw injection.error();
        }
        const changed = before.east !== input.eastPercent;
        if (changed) {
          this.act(`shift:${key}:${before.east}->${input.eastPercent}`);
          this.splits.set(key, { west: 100 - input.eastPercent, east: input.eastPercent });
        }
        this.called(`setSplitWeights:${key}:${before.east}->${input.eastPercent}`);
        const eventRecorded = !this.events.has(input.event.name);
        this.events.add(input.event.name);
        const after = this.splits.get(key) ?? before;
        return {
          changed,
          before: { ...before, eastPercent: before.east },
          after: { ...after, eastPercent: after.east },
          eventRecorded,
        };
      },
    };
  }

  /** Every stub a FailoverToEast worker needs. */
  allActivities(): object {
    return { ...this.activities(), ...this.failoverActivities(), ...this.route53.activities() };
  }
}

/** A VerificationFailed as setSplitWeights throws it when another controller rewrote the split. */
export function verificationFailure(): () => Error {
  return () =>
    kubehaFailure({
      type: ErrorType.VerificationFailed,
      message: 'TrafficSplit test/podinfo reads back east 50%, not the 100% just written',
      retryable: false,
      hint: 'another controller rewrites the split',
    });
}

/** A valid input: one service, steps 50 → 100, short windows for tests. */
export function failoverInput(overrides: Partial<FailoverToEastInput> = {}): FailoverToEastInput {
  return {
    west: { name: 'west', kubeconfigSecret: WEST },
    east: { name: 'east', kubeconfigSecret: EAST },
    services: [{ namespace: 'test', name: 'podinfo' }],
    steps: [50, 100],
    stepPauseSeconds: 0,
    failback: { hysteresisSeconds: 2, checkIntervalSeconds: 1, automatic: true },
    onFailure: 'fail',
    ...overrides,
  };
}

/** An Alertmanager notification as the webhook relays it. */
export function notification(status: 'firing' | 'resolved', fingerprint = 'fp-west-down', startsAt = '2025-01-01T00:00:00Z'): AlertNotification {
  return {
    status,
    groupKey: '{}:{alertname="WestDown"}',
    receiver: 'kubeha',
    route: 'west-down',
    alerts: [{ fingerprint, status, startsAt, labels: { alertname: 'WestDown', cluster: 'west' } }],
    receivedAt: new Date().toISOString(),
  };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

/** FailoverToEast alone, bundled once per process. */
export function failoverBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/failover'), logger: quietLogger });
  return bundle;
}

/** A worker running FailoverToEast with the given activities on a (fresh) task queue. */
export async function failoverWorker(
  env: TestWorkflowEnvironment,
  activities: object,
  taskQueue = `failover-${randomUUID()}`,
): Promise<{ worker: Worker; taskQueue: string }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await failoverBundle(),
    activities,
    shutdownGraceTime: '1 second',
  });
  return { worker, taskQueue };
}
