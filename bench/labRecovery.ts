/**
 * Recovery time on the lab: west bootstrapped once, then N times its three control planes stopped
 * (host-stop: the zone of its etcd majority lost) and RecoverControlPlane started without approval. It
 * reports, per run and as medians: from the loss, and from the start of the run, to the API answering
 * /readyz through west's load balancer; the share of each step until then; and the rejoin of the three
 * hosts after they start again. Figures only.
 *
 * Usage: node dist/bench/labRecovery.js [runs=3]   (as root; west only, on 127.0.10.151-156)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createSshShell, FileKnownHostsStore } from '../activities/ssh';
import type { RecoverControlPlaneInput } from '../common/inputs/recoverControlPlane';
import type { Progress } from '../common/progress';
import type { KubeClient } from '../lab/kube/client';
import { applyLabAwsEnvironment, labDown, labFault, labUp, type LabUpResult } from '../lab/orchestrator';
import { frontStatus } from '../test/lab/e2e/labWorkerRun';
import { startTestTemporal } from '../test/support/temporal';
import { eventually } from '../test/support/workflowHarness';
import { benchTopology, bootstrapWest, startBenchWorker } from './labBootstrap';
import type { RecoverResult } from '../workflows/recover';

/** One recovery. */
interface RecoveryRun {
  lossToServingMs: number;
  startToServingMs: number;
  /** Steps until the API served, by name (ms). */
  steps: Record<string, number>;
  rejoinMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function oneRecovery(
  lab: LabUpResult,
  dataDir: string,
  client: Client,
  taskQueue: string,
  api: KubeClient,
  cluster: unknown,
  n: number,
): Promise<RecoveryRun> {
  const cps = lab.state.hosts.filter((h) => h.role === 'control-plane');
  const lostAt = Date.now();
  for (const h of cps) await labFault('host-stop', [h.name], dataDir);
  await eventually(
    async () => (await frontStatus(lab.state.aws!.endpoint)).loadBalancers[0].targets.every((t) => t.state !== 'healthy'),
    60_000,
    'targets unhealthy',
  );
  const input: RecoverControlPlaneInput = {
    cluster: cluster as RecoverControlPlaneInput['cluster'],
    precheck: { windowSeconds: 6, intervalSeconds: 2 },
    approval: { required: false },
    rejoin: { waitMinutes: 15, pollSeconds: 2 },
    onFailure: 'fail',
  };
  const startedAt = Date.now();
  const handle = await client.workflow.start('RecoverControlPlane', { taskQueue, workflowId: `bench-recover-${n}`, args: [input] });
  await eventually(async () => (await api.request('GET', '/readyz')).status === 200, 300_000, 'the API answering through the load balancer');
  const servingAt = Date.now();
  await eventually(
    async () => (await handle.query<Progress>('progress')).steps.some((s) => s.step === 'verify-serving' && s.state === 'done'),
    120_000,
    'verify-serving done',
  );
  const progress = await handle.query<Progress>('progress');
  const steps: Record<string, number> = {};
  for (const s of progress.steps) if (s.startedAt && s.finishedAt && s.step !== 'rejoin') steps[s.step] = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
  const rejoinStarted = Date.now();
  for (const h of cps) await labFault('host-start', [h.name], dataDir);
  const result = (await handle.result()) as RecoverResult;
  if (result.outcome !== 'recovered') throw new Error(`run ${n}: ${result.outcome} (${result.reason})`);
  return { lossToServingMs: servingAt - lostAt, startToServingMs: servingAt - startedAt, steps, rejoinMs: Date.now() - rejoinStarted };
}

/** Bootstraps west on a fresh lab and recovers it `runs` times. */
export async function labRecoveryBench(runs: number): Promise<RecoveryRun[]> {
  const dataDir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'kubeha-bench-'));
  process.env.KUBEHA_DATA_DIR = dataDir;
  applyLabAwsEnvironment();
  const env = await startTestTemporal();
  const shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dataDir, 'known_hosts.json')) });
  try {
    const lab = await labUp({ dataDir, topology: benchTopology() });
    const worker = await startBenchWorker(env, dataDir, shell);
    const { client, taskQueue, stop } = worker;
    const { cluster, api } = await bootstrapWest(worker, lab.state.inputs.west);
    const results: RecoveryRun[] = [];
    for (let n = 1; n <= runs; n++) {
      const run = await oneRecovery(lab, dataDir, client, taskQueue, api, cluster, n);
      process.stdout.write(`run ${n}: ${JSON.stringify(run)}\n`);
      results.push(run);
    }
    await stop();
    return results;
  } finally {
    await shell.close();
    await env.teardown();
    await labDown({ dataDir }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  labRecoveryBench(Number(process.argv[2] ?? 3))
    .then((runs) => {
      const loss = median(runs.map((r) => r.lossToServingMs));
      const start = median(runs.map((r) => r.startToServingMs));
      const names = Object.keys(runs[0].steps);
      const medians = names.map((name) => median(runs.map((r) => r.steps[name] ?? 0)));
      // Shares of the steps up to verify-serving's end (it ends after the API first answers: the write probe).
      const total = medians.reduce((a, b) => a + b, 0);
      const shares = names.map((name, i) => `${name} ${(medians[i] / 1000).toFixed(1)} s (${Math.round((medians[i] / total) * 100)}%)`);
      process.stdout.write(
        `recovery over ${runs.length} runs (medians): loss to API serving through the load balancer ${(loss / 1000).toFixed(1)} s, ` +
          `run start to serving ${(start / 1000).toFixed(1)} s [${shares.join(', ')}]; rejoin of 3 hosts ${(median(runs.map((r) => r.rejoinMs)) / 1000).toFixed(1)} s\n`,
      );
    })
    .catch((err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
