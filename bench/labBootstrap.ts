/**
 * The lab's own figures: how long `lab up` takes (cold: new keys; warm: a second up after a down),
 * BootstrapStackedEtcd's wall time on the lab against the sum of its steps' own durations (from the
 * progress query's startedAt/finishedAt: the difference is the workflow's overhead between steps), and
 * the lab's peak memory (summed RSS of its processes, sampled every second).
 *
 * Usage: node .out/<dir>/bench/labBootstrap.js   (as root; west cluster only, on 127.0.10.151-156)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { FileSecretStore } from '../activities/secrets/store';
import { createSshShell, FileKnownHostsStore } from '../activities/ssh';
import type { RemoteShell } from '../activities/ssh/types';
import type { Progress } from '../common/progress';
import { KubeClient } from '../lab/kube/client';
import { parseKubeconfig } from '../lab/kube/kubeconfig';
import { applyLabAwsEnvironment, defaultTopologyInput, labDown, labRssBytes, labUp, parseTopology } from '../lab/orchestrator';
import { kubehaDataConverter } from '../lib/codec/dataConverter';
import { startTestTemporal } from '../test/support/temporal';
import { createWorker } from '../worker';

/** What the bench measured. */
export interface LabBootstrapReport {
  labUpColdMs: number;
  labUpWarmMs: number;
  bootstrapWallMs: number;
  stepsSumMs: number;
  steps: Record<string, number>;
  overheadMs: number;
  peakLabRssMiB: number;
  labRssAfterBootstrapMiB: number;
  labDownMs: number;
}

/** West alone, on 127.0.10.151-156 and its own /etc/hosts label (the lab benches share it). */
export function benchTopology() {
  const west = defaultTopologyInput().clusters[0];
  return parseTopology({
    clusters: [{ ...west, hosts: west.hosts.map((h, i) => ({ ...h, address: `127.0.10.${151 + i}` })) }],
    loadBalancerAddressPrefix: '127.0.96',
    hostsBlockLabel: `bench-${process.pid}`,
  });
}

/** kubeha's worker running on the test Temporal, and a client to start workflows on it. */
export interface BenchWorker {
  client: Client;
  taskQueue: string;
  /** The worker's secret store (under the data directory): kubeconfigs the workflows store. */
  secrets: FileSecretStore;
  /** Shuts the worker down and waits for it. */
  stop(): Promise<void>;
}

/** Starts kubeha's worker with its real activities (secrets under `dataDir`) and a client with kubeha's data converter. */
export async function startBenchWorker(env: TestWorkflowEnvironment, dataDir: string, shell: RemoteShell): Promise<BenchWorker> {
  const taskQueue = 'kubeha-lab-bench';
  const secrets = new FileSecretStore(path.join(dataDir, 'secrets'));
  const worker = await createWorker({
    connection: env.nativeConnection,
    settings: { address: '', namespace: env.namespace ?? 'default', taskQueue, uiUrl: '' },
    activities: createActivities({ secrets, shell }),
    overrides: { shutdownGraceTime: '1 second' },
  });
  const running = worker.run();
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: kubehaDataConverter().dataConverter });
  const stop = async () => {
    worker.shutdown();
    await running;
  };
  return { client, taskQueue, secrets, stop };
}

/** West bootstrapped by BootstrapStackedEtcd from the lab's input file: the input and an API client with the admin kubeconfig (through the load balancer). */
export async function bootstrapWest(worker: BenchWorker, inputFile: string): Promise<{ cluster: Record<string, unknown>; api: KubeClient }> {
  const cluster = { ...JSON.parse(readFileSync(inputFile, 'utf8')), onFailure: 'fail' };
  const boot = await worker.client.workflow.execute('BootstrapStackedEtcd', { taskQueue: worker.taskQueue, workflowId: 'bench-bootstrap', args: [cluster] });
  const api = new KubeClient(parseKubeconfig(await worker.secrets.get((boot as { kubeconfigSecret: string }).kubeconfigSecret)));
  return { cluster, api };
}

/** Runs the bench on a fresh lab in a temporary data directory. */
export async function labBootstrapBench(): Promise<LabBootstrapReport> {
  const dataDir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'kubeha-bench-'));
  process.env.KUBEHA_DATA_DIR = dataDir;
  applyLabAwsEnvironment();
  const topology = benchTopology();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, labRssBytes(dataDir))), 1000);
  const env = await startTestTemporal();
  const shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dataDir, 'known_hosts.json')) });
  try {
    const cold = await labUp({ dataDir, topology });
    await labDown({ dataDir });
    const warm = await labUp({ dataDir, topology });
    peak = Math.max(peak, labRssBytes(dataDir));

    const { client, taskQueue, stop } = await startBenchWorker(env, dataDir, shell);
    const input = { ...JSON.parse(readFileSync(warm.state.inputs.west, 'utf8')), onFailure: 'fail' };
    const started = Date.now();
    const handle = await client.workflow.start('BootstrapStackedEtcd', { taskQueue, workflowId: 'bench-bootstrap', args: [input] });
    await handle.result();
    const bootstrapWallMs = Date.now() - started;
    const progress = await handle.query<Progress>('progress');
    await stop();
    const steps: Record<string, number> = {};
    for (const s of progress.steps) if (s.startedAt && s.finishedAt) steps[s.step] = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
    const stepsSumMs = Object.values(steps).reduce((a, b) => a + b, 0);
    const after = labRssBytes(dataDir);
    peak = Math.max(peak, after);
    const downStarted = Date.now();
    await labDown({ dataDir });
    const mib = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
    return {
      labUpColdMs: cold.ms,
      labUpWarmMs: warm.ms,
      bootstrapWallMs,
      stepsSumMs,
      steps,
      overheadMs: bootstrapWallMs - stepsSumMs,
      peakLabRssMiB: mib(peak),
      labRssAfterBootstrapMiB: mib(after),
      labDownMs: Date.now() - downStarted,
    };
  } finally {
    clearInterval(sampler);
    await shell.close();
    await env.teardown();
    await labDown({ dataDir }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  labBootstrapBench()
    .then((report) => {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(
        `lab up: cold ${report.labUpColdMs} ms, warm ${report.labUpWarmMs} ms; bootstrap ${(report.bootstrapWallMs / 1000).toFixed(1)} s wall, ` +
          `steps ${(report.stepsSumMs / 1000).toFixed(1)} s, overhead ${report.overheadMs} ms; lab peak RSS ${report.peakLabRssMiB} MiB\n`,
      );
    })
    .catch((err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
