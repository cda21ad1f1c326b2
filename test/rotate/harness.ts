/**
 * Test support for the rotation workflows: a private workflow bundle, a worker with the fake world's
 * stubs (bootstrap and rotation activities), and the rotation's stub activities over the same world.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { CertificateKeyInfo, HostCertificates, RotationActivities } from '../../activities/rotation/types';
import { ensureRotationSchedule } from '../../activities/rotation/schedule';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { RotateCertificateKeyInput } from '../../common/inputs/rotateCertificateKey';
import { FAILURE_CONVERTER_PATH } from '../../lib/codec/dataConverter';
import { FakeWorld } from '../support/fakeWorld';
import { host } from '../support/inputs';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** The bundle of test/rotate/workflows.ts; `encryptedFailures` adds kubeha's failure converter (codec tests). */
export function rotationBundle(encryptedFailures = false): Promise<WorkflowBundleWithSourceMap> {
  const key = String(encryptedFailures);
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: require.resolve('./workflows'),
      logger: quietLogger,
      ...(encryptedFailures ? { failureConverterPath: FAILURE_CONVERTER_PATH } : {}),
    });
    bundles.set(key, bundle);
  }
  return bundle;
}

/** A worker on a fresh task queue. */
export async function rotationWorker(
  env: TestWorkflowEnvironment,
  activities: object,
  taskQueue = `rotate-${randomUUID()}`,
): Promise<{ worker: Worker; taskQueue: string }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await rotationBundle(),
    activities,
    shutdownGraceTime: '1 second',
  });
  return { worker, taskQueue };
}

const DAY = 24 * 3600_000;

/**
 * The rotation's side of the fake world: which hosts answer, the certificates' expiry per host, and
 * the certificate key (FakeWorld's `certificateKeyGeneration`, which joins check).
 */
export class RotationWorld {
  /** Hosts the probe reports unhealthy, with the reason. */
  readonly unhealthy = new Map<string, string>();
  /** Soonest certificate expiry per host (default: in 300 days). */
  readonly expiry = new Map<string, number>();
  /** Delay of an upload, to make overlaps observable. */
  uploadDelayMs = 30;
  /** Uploads fail with this (permanent) error when set. */
  uploadFails?: string;
  lastKey?: CertificateKeyInfo;

  constructor(
    readonly world: FakeWorld = new FakeWorld(),
    private readonly client?: () => Client,
  ) {}

  private async record<T>(name: string, hostName: string | undefined, fn: () => Promise<T> | T): Promise<T> {
    const start = Date.now();
    try {
      return await fn();
    } finally {
      this.world.calls.push({ name, host: hostName, start, end: Date.now() });
    }
  }

  private act(kind: string): void {
    this.world.actions.set(kind, (this.world.actions.get(kind) ?? 0) + 1);
  }

  expiryOf(hostName: string): number {
    return this.expiry.get(hostName) ?? Date.now() + 300 * DAY;
  }

  /** The rotation activities, shaped like the real ones. */
  activities(): RotationActivities {
    return {
      probeControlPlane: ({ host: h }) =>
        this.record('probeControlPlane', h.name, () => {
          const reason = this.unhealthy.get(h.name);
          return reason ? { host: h.name, healthy: false, reason } : { host: h.name, healthy: true };
        }),
      uploadCertificateKey: ({ clusterName, host: h }) =>
        this.record('uploadCertificateKey', h.name, async () => {
          if (this.uploadFails)
            throw kubehaFailure({ type: ErrorType.CommandFailed, message: this.uploadFails, retryable: false, hint: 'injected by the test' });
          await new Promise((r) => setTimeout(r, this.uploadDelayMs));
          const previous = this.world.certificateKeyGeneration;
          this.world.certificateKeyGeneration++;
          this.act('rotate-key');
          const now = new Date();
          this.lastKey = {
            host: h.name,
            rotated: true,
            certificateKeySecret: `clusters/${clusterName}/certificate-key`,
            recordSecret: `clusters/${clusterName}/certificate-key-record`,
            uploadedAt: now.toISOString(),
            expiresAt: new Date(now.getTime() + 2 * 3600_000).toISOString(),
            previousKeyRejected: previous >= 1,
          };
          return this.lastKey;
        }),
      certificateExpiration: ({ host: h }) =>
        this.record('certificateExpiration', h.name, (): HostCertificates => {
          const expiresAt = new Date(this.expiryOf(h.name)).toISOString();
          const cert = {
            name: 'apiserver',
            expiresAt,
            residualSeconds: Math.round((this.expiryOf(h.name) - Date.now()) / 1000),
            externallyManaged: false,
            missing: false,
            caName: 'ca',
          };
          return {
            host: h.name,
            certificates: [cert],
            certificateAuthorities: [],
            soonest: { name: cert.name, expiresAt, residualSeconds: cert.residualSeconds },
          };
        }),
      renewCertificates: (input) =>
        this.record('renewCertificates', input.host.name, async () => {
          await new Promise((r) => setTimeout(r, 20));
          if (this.expiryOf(input.host.name) >= Date.parse(input.renewIfExpiresBefore))
            return { host: input.host.name, renewed: false, restarted: [], kubeconfigStored: false };
          this.act(`renew:${input.host.name}`);
          this.expiry.set(input.host.name, Date.now() + 365 * DAY);
          return {
            host: input.host.name,
            renewed: true,
            restarted: ['etcd.yaml', 'kube-apiserver.yaml'],
            soonestExpiresAt: new Date(this.expiryOf(input.host.name)).toISOString(),
            kubeconfigStored: true,
          };
        }),
      ensureRotationSchedule: (input) =>
        this.record('ensureRotationSchedule', undefined, async () => {
          if (!this.client) throw new Error('no client in this test world');
          const { Context } = await import('@temporalio/activity');
          return ensureRotationSchedule(this.client(), { ...input, taskQueue: Context.current().info.taskQueue });
        }),
    };
  }

  /** Bootstrap stubs (FakeWorld) and rotation stubs together, as one worker registers them. */
  allActivities(): object {
    return { ...this.world.activities(), ...this.activities() };
  }
}

/** A valid rotation input for the 3+1+2 test topology. */
export function rotationInput(overrides: Partial<RotateCertificateKeyInput> = {}): RotateCertificateKeyInput {
  return {
    clusterName: 'west',
    hosts: [
      host('cp-1', '10.0.1.11', 'control-plane'),
      host('cp-2', '10.0.1.12', 'control-plane'),
      host('cp-3', '10.0.1.13', 'control-plane'),
      host('spare-1', '10.0.2.11', 'spare-control-plane'),
    ],
    onFailure: 'fail',
    ...overrides,
  } as RotateCertificateKeyInput;
}

/** Whether two recorded calls overlap in time. */
export function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}
