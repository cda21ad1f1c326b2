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
import path from 'node:path';
import { inspect } from 'node:util';
import { DefaultLogger, type LogEntry, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { createActivities } from '../../../activities';
import { FileSecretStore } from '../../../activities/secrets/store';
import { createSshShell, FileKnownHostsStore } from '../../../activities/ssh';
import { temporalSettings } from '../../../lib/config';
import { dataDir } from '../../../lib/paths';
import { createWorker } from '../../../worker';

/** The line the process prints when its worker runs. */
export const ROTATION_WORKER_RUNNING = 'kubeha rotation worker running';

/** The SSH transport's own log lines (commands started and finished, channel errors) in the same output. */
const shellLogger = {
  debug: (details: object, message: string) => write({ level: 'DEBUG', message: `ssh: ${message}`, meta: details, timestampNanos: BigInt(Date.now()) * 1_000_000n }),
  info: (details: object, message: string) => write({ level: 'INFO', message: `ssh: ${message}`, meta: details, timestampNanos: BigInt(Date.now()) * 1_000_000n }),
  warn: (details: object, message: string) => write({ level: 'WARN', message: `ssh: ${message}`, meta: details, timestampNanos: BigInt(Date.now()) * 1_000_000n }),
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
  const dir = dataDir();
  const worker = await createWorker({
    settings: temporalSettings(),
    activities: createActivities({
      secrets: new FileSecretStore(path.join(dir, 'secrets')),
      // A known-hosts file of its own: the test process writes the other one.
      shell: createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dir, 'known_hosts-rotation-worker.json')), logger: shellLogger }),
    }),
    overrides: { identity: 'rotation-e2e-worker', shutdownGraceTime: '1 second' },
  });
  const running = worker.run();
  process.stdout.write(`${ROTATION_WORKER_RUNNING}\n`);
  await running;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${inspect(err, { depth: null })}\n`);
    process.exit(1);
  });
}
