/**
 * kubeha's real worker and activities in a process of their own, so a test can kill it abruptly
 * (SIGKILL: no graceful shutdown, no activity completion) halfway through a run.
 *
 * Settings come from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KUBEHA_TASK_QUEUE,
 * KUBEHA_DATA_DIR (the secrets and the codec keys shared with the test) and KUBEHA_WORKER_IDENTITY.
 * Prints {@link WORKER_RUNNING} once the worker polls. The other worker processes of the tests
 * (the rotation test's, the crash campaign's) are made of the pieces exported here.
 */
import path from 'node:path';
import { createActivities, defaultDependencies } from '../../../activities';
import { FileSecretStore } from '../../../activities/secrets/store';
import { createSshShell, FileKnownHostsStore, type ShellLogger } from '../../../activities/ssh';
import { temporalSettings } from '../../../lib/config';
import { dataDir } from '../../../lib/paths';
import { createWorker } from '../../../worker';

/** The line the process prints when its worker runs. */
export const WORKER_RUNNING = 'kubeha worker running';

/**
 * kubeha's real activities on the data folder `dir`, with a known-hosts file of the process's own
 * (the test process writes the other one, and two writers of one file would race).
 */
export function workerProcessActivities(dir: string, knownHostsFile = 'known_hosts-worker-process.json', logger?: ShellLogger): object {
  // A shared store configured (several workers): kubeha's own choice from the environment.
  if (process.env.KUBEHA_SECRET_STORE && process.env.KUBEHA_SECRET_STORE !== 'file') return createActivities(defaultDependencies(process.env));
  return createActivities({
    secrets: new FileSecretStore(path.join(dir, 'secrets')),
    shell: createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dir, knownHostsFile)), ...(logger ? { logger } : {}) }),
  });
}

/** What {@link runWorkerProcess} runs. */
export interface WorkerProcessOptions {
  activities: object;
  /** Default KUBEHA_WORKER_IDENTITY, else the SDK's. */
  identity?: string;
  /** A prebuilt workflow bundle, so a replacement worker polls within seconds. */
  workflowBundle?: string;
  /** The line printed once the worker polls (default {@link WORKER_RUNNING}). */
  runningLine?: string;
}

/** Runs a worker with the environment's settings until the process is killed. */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<void> {
  const worker = await createWorker({
    settings: temporalSettings(),
    activities: options.activities,
    overrides: {
      identity: options.identity ?? process.env.KUBEHA_WORKER_IDENTITY,
      shutdownGraceTime: '1 second',
      ...(options.workflowBundle ? { workflowBundle: { codePath: options.workflowBundle } } : {}),
    },
  });
  const running = worker.run();
  process.stdout.write(`${options.runningLine ?? WORKER_RUNNING}\n`);
  await running;
}

/** Runs `main` when `entry` is the process's entry point; a failure is printed and exits 1. */
export function runAsProcessEntry(
  entry: NodeModule,
  main: () => Promise<void>,
  format: (err: unknown) => string = (err) => (err as Error).stack ?? String(err),
): void {
  if (require.main !== entry) return;
  main().catch((err: unknown) => {
    process.stderr.write(`${format(err)}\n`);
    process.exit(1);
  });
}

runAsProcessEntry(module, () => runWorkerProcess({ activities: workerProcessActivities(dataDir()) }));
