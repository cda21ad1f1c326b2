/**
 * Runs kubeha's workflows against a real Temporal dev server with stub activities: one bundle per
 * test file, one worker and task queue per test.
 */
import { randomUUID } from 'node:crypto';
import type { PayloadCodec } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflows bundle, built once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

/** A worker on a fresh task queue with the given activities (and payload codecs, to read what kubeha's clients encrypt). */
export async function stubWorker(
  env: TestWorkflowEnvironment,
  activities: object,
  taskQueue = `test-${randomUUID()}`,
  dataConverter?: { payloadCodecs: PayloadCodec[] },
): Promise<{ worker: Worker; taskQueue: string }> {
  const worker = await Worker.create({
    dataConverter,
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    shutdownGraceTime: '1 second',
  });
  return { worker, taskQueue };
}

/** Polls `probe` until it returns a truthy value (for waiting on a query condition). */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
