/**
 * kubeha's worker: runs the workflows and activities on the `kubeha` task queue.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { workerActivities } from '../activities';
import { kubehaDataConverter } from '../lib/codec/dataConverter';
import { temporalConnectionOptions } from '../lib/temporalConnection';
import { temporalSettings, type TemporalSettings } from '../lib/config';

/** What a worker is built from; everything has a default from the environment. */
export interface KubehaWorkerOptions {
  settings?: TemporalSettings;
  /** Activity implementations; defaults to the real ones on the configured secret store (`workerActivities()`). */
  activities?: object;
  connection?: NativeConnection;
  /** Stops the worker gracefully when aborted. */
  shutdownSignal?: AbortSignal;
  /** Extra Worker options (tests: a prebuilt workflow bundle, shorter shutdown grace time). */
  overrides?: Partial<WorkerOptions>;
}

/** Builds a worker connected to Temporal. */
export async function createWorker(options: KubehaWorkerOptions = {}): Promise<Worker> {
  const settings = options.settings ?? temporalSettings();
  // The secret store first: a misconfigured store stops the worker before it takes any task.
  const activities = options.activities ?? (await workerActivities());
  const connection = options.connection ?? (await NativeConnection.connect(temporalConnectionOptions(settings)));
  const workflowSource = options.overrides?.workflowBundle ? {} : { workflowsPath: require.resolve('../workflows') };
  return Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...workflowSource,
    activities,
    // Every payload and failure message is encrypted before it reaches Temporal's history.
    dataConverter: kubehaDataConverter().dataConverter,
    shutdownGraceTime: '10 seconds',
    ...options.overrides,
  });
}

/** Runs a worker until the shutdown signal is aborted (or SIGINT/SIGTERM, which the SDK handles). */
export async function runWorker(options: KubehaWorkerOptions = {}): Promise<void> {
  const worker = await createWorker(options);
  const { shutdownSignal } = options;
  if (shutdownSignal) {
    if (shutdownSignal.aborted) return;
    // The SDK also stops the worker on SIGINT/SIGTERM by itself: shut down only what still runs.
    else shutdownSignal.addEventListener('abort', () => worker.getState() === 'RUNNING' && worker.shutdown(), { once: true });
  }
  await worker.run();
}
