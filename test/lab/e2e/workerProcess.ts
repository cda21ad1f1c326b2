/**
 * kubeha's real worker and activities in a process of their own, so a test can kill it abruptly
 * (SIGKILL: no graceful shutdown, no activity completion) halfway through a run.
 *
 * Settings come from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KUBEHA_TASK_QUEUE,
 * KUBEHA_DATA_DIR (the secrets and the codec keys shared with the test) and KUBEHA_WORKER_IDENTITY.
 * Prints {@link WORKER_RUNNING} once the worker polls.
 */
import path from 'node:path';
import { createActivities } from '../../../activities';
import { FileSecretStore } from '../../../activities/secrets/store';
import { createSshShell, FileKnownHostsStore } from '../../../activities/ssh';
import { temporalSettings } from '../../../lib/config';
import { dataDir } from '../../../lib/paths';
import { createWorker } from '../../../worker';

/** The line the process prints when its worker runs. */
export const WORKER_RUNNING = 'kubeha worker running';

async function main(): Promise<void> {
  const dir = dataDir();
  const worker = await createWorker({
    settings: temporalSettings(),
    activities: createActivities({
      secrets: new FileSecretStore(path.join(dir, 'secrets')),
      // A known-hosts file of its own: the test process writes the other one.
      shell: createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dir, 'known_hosts-worker-process.json')) }),
    }),
    overrides: { identity: process.env.KUBEHA_WORKER_IDENTITY, shutdownGraceTime: '1 second' },
  });
  const running = worker.run();
  process.stdout.write(`${WORKER_RUNNING}\n`);
  await running;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
