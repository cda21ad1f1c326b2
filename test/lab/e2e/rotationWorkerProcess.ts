/**
 * kubeha's real worker and activities in a process of their own, logging EVERYTHING (the SDK's
 * logger at DEBUG, the Rust core's logs forwarded at INFO, each entry with its whole metadata:
 * errors with their messages, causes and details) to stdout, so the rotation test can search all
 * a worker ever writes for secret values.
 *
 * Settings come from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KUBEHA_TASK_QUEUE and
 * KUBEHA_DATA_DIR (the secrets and the codec keys shared with the test). Prints
 * {@link ROTATION_WORKER_RUNNING} once the worker polls.
 */
import { inspect } from 'node:util';
import { DefaultLogger, type LogEntry, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { dataDir } from '../../../lib/paths';
import { runAsProcessEntry, runWorkerProcess, workerProcessActivities } from './workerProcess';

/** The line the process prints when its worker runs. */
export const ROTATION_WORKER_RUNNING = 'kubeha rotation worker running';

/** The SSH transport's own log lines (commands started and finished, channel errors) in the same output. */
const shellLogger = {
  debug: (details: object, message: string) =>
    write({ level: 'DEBUG', message: `ssh: ${message}`, meta: details, timestampNanos: BigInt(Date.now()) * 1_000_000n }),
  info: (details: object, message: string) =>
    write({ level: 'INFO', message: `ssh: ${message}`, meta: details, timestampNanos: BigInt(Date.now()) * 1_000_000n }),
  warn: (details: object, message: string) =>
    write({ level: 'WARN', message: `ssh: ${message}`, meta: details, timestampNanos: BigInt(Date.now()) * 1_000_000n }),
};

function write(entry: LogEntry): void {
  // inspect, not JSON: an Error's message, stack, cause and details would vanish from JSON.stringify.
  const meta = entry.meta === undefined ? '' : ` ${inspect(entry.meta, { depth: null, breakLength: Infinity, maxArrayLength: null, maxStringLength: null })}`;
  process.stdout.write(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}${meta}\n`);
}

async function main(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('DEBUG', write),
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'INFO', other: 'INFO' }) } },
  });
  await runWorkerProcess({
    // The SSH transport's own log lines go to the same output.
    activities: workerProcessActivities(dataDir(), 'known_hosts-rotation-worker.json', shellLogger),
    identity: 'rotation-e2e-worker',
    runningLine: ROTATION_WORKER_RUNNING,
  });
}

runAsProcessEntry(module, main, (err) => inspect(err, { depth: null }));
