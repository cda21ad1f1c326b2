/**
 * Where one crash point runs: a fresh lab on the campaign's own addresses, a client of the campaign's
 * dev server with a data directory (codec keys, secrets) of its own, and the worker child processes
 * the point kills and replaces.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { BootstrapStackedEtcdInput } from '../../../common/inputs/bootstrapStackedEtcd';
import { applyLabAwsEnvironment, defaultTopologyInput, labDown, labUp, parseTopology, type LabUpResult } from '../../../lab/orchestrator';
import { kubehaDataConverter } from '../../../lib/codec/dataConverter';
import { exitOf, startWorkerProcess, type WorkerProcess } from '../../lab/e2e/labWorkerRun';
import type { FileBackedDevServer } from './devServer';

/**
 * The campaign's own loopback ranges: its lab hosts take `<range>.101` on (west 127.0.14, or east
 * 127.0.24 for a second campaign running beside the first), its load balancers `127.0.84.N`.
 */
export const CRASH_RANGES = { west: '127.0.14', east: '127.0.24' } as const;
/** Which range a campaign's labs use. */
export type CrashRange = keyof typeof CRASH_RANGES;
const FIRST_HOST_OCTET = 101;
const LOAD_BALANCER_PREFIX = '127.0.84';

/** What every point of a campaign shares. */
export interface CampaignContext {
  server: FileBackedDevServer;
  /** The workflow bundle the worker children load (made once per campaign). */
  bundlePath: string;
  /** The campaign's scratch folder (one data directory per point under it). */
  root: string;
  /** The loopback range of the campaign's labs. */
  range: CrashRange;
}

/**
 * Which west hosts a point's lab has: the default topology (3 control planes, 1 spare, 2 workers),
 * a small one (2 control planes, the spare, 1 worker) or only the primary.
 */
export type ArenaShape = 'full' | 'small' | 'primary-only';

const SHAPES: Record<ArenaShape, string[] | undefined> = {
  full: undefined,
  small: ['west-cp-1', 'west-cp-2', 'west-spare-1', 'west-worker-1'],
  'primary-only': ['west-cp-1'],
};

/** The default west cluster on the campaign's addresses (east left out: BootstrapStackedEtcd works on one cluster). */
export function crashTopology(shape: ArenaShape = 'full', range: CrashRange = 'west') {
  const west = defaultTopologyInput().clusters[0];
  const keep = SHAPES[shape];
  const hosts = keep ? west.hosts.filter((h) => keep.includes(h.name)) : west.hosts;
  return parseTopology({
    clusters: [{ ...west, hosts: hosts.map((h, i) => ({ ...h, address: `${CRASH_RANGES[range]}.${FIRST_HOST_OCTET + i}` })) }],
    // Two campaigns may share the prefix: the lab skips a load-balancer address another process listens on.
    loadBalancerAddressPrefix: LOAD_BALANCER_PREFIX,
    hostsBlockLabel: `crash-${process.pid}`,
  });
}

/** One point's lab, client and workers. */
export class Arena {
  readonly client: Client;
  readonly taskQueue: string;
  private worker?: WorkerProcess & { identity?: string };
  /** Worker children started before the latest one (several workers on one task queue). */
  private readonly others: Array<WorkerProcess & { identity?: string }> = [];
  private workers = 0;
  /** Settings every worker child of this point gets (e.g. LINKERD_PATH for the mesh points). */
  workerEnv: NodeJS.ProcessEnv = {};

  private constructor(
    readonly context: CampaignContext,
    readonly point: string,
    readonly dataDir: string,
    readonly lab: LabUpResult | undefined,
    private readonly connection: Connection,
  ) {
    const env = { ...process.env, KUBEHA_DATA_DIR: dataDir };
    this.client = new Client({ connection, namespace: 'default', dataConverter: kubehaDataConverter(env).dataConverter });
    this.taskQueue = `crash-${point}-${Date.now()}`;
  }

  /** A fresh data directory, and a fresh lab unless `shape` is 'none' (stub-world points). */
  static async open(context: CampaignContext, point: string, shape: ArenaShape | 'none' = 'full'): Promise<Arena> {
    const dataDir = mkdtempSync(path.join(context.root, `${point}-`));
    let lab: LabUpResult | undefined;
    if (shape !== 'none') {
      applyLabAwsEnvironment();
      lab = await labUp({ dataDir, topology: crashTopology(shape, context.range) });
    }
    const connection = await Connection.connect({ address: context.server.address });
    return new Arena(context, point, dataDir, lab, connection);
  }

  /** The lab (points that have one). */
  get labUp(): LabUpResult {
    if (!this.lab) throw new Error(`point ${this.point} has no lab`);
    return this.lab;
  }

  /** The lab's BootstrapStackedEtcd input, with a load balancer name of this campaign's and the given failure policy. */
  bootstrapInput(onFailure: 'wait' | 'fail' = 'fail'): BootstrapStackedEtcdInput {
    const input = JSON.parse(readFileSync(this.labUp.state.inputs.west, 'utf8')) as BootstrapStackedEtcdInput;
    // Another lab's west NLB would own the same DNS name in /etc/hosts (first block wins): a name of this campaign's.
    return { ...input, loadBalancer: { ...input.loadBalancer, name: `kubeha-crash-${process.pid}` }, onFailure };
  }

  /** The identity of the current (or next) worker child. */
  get identity(): string {
    return `crash-${this.point}-worker-${this.workers}`;
  }

  /** Starts a worker child (stub world when `stubWorldFile` is given); resolves once it polls. */
  async startWorker(stubWorldFile?: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ identity: string; readyMs: number }> {
    this.workers += 1;
    const started = Date.now();
    if (this.worker) this.others.push(this.worker);
    this.worker = await startWorkerProcess(
      {
        ...process.env,
        TEMPORAL_ADDRESS: this.context.server.address,
        TEMPORAL_NAMESPACE: 'default',
        KUBEHA_TASK_QUEUE: this.taskQueue,
        KUBEHA_DATA_DIR: this.dataDir,
        KUBEHA_WORKER_IDENTITY: this.identity,
        KUBEHA_WORKFLOW_BUNDLE: this.context.bundlePath,
        ...(stubWorldFile ? { KUBEHA_CRASH_WORLD: stubWorldFile } : {}),
        ...this.workerEnv,
        ...extraEnv,
      },
      path.join(__dirname, 'workerChild.js'),
    );
    this.worker.identity = this.identity;
    return { identity: this.identity, readyMs: Date.now() - started };
  }

  /** SIGKILLs the worker child `identity` (default: the latest); resolves with the time of the kill once it is gone. */
  async killWorker(identity?: string): Promise<number> {
    const worker = identity ? [this.worker, ...this.others].find((w) => w?.identity === identity) : this.worker;
    if (!worker) throw new Error('no worker child runs');
    const killedAt = Date.now();
    worker.child.kill('SIGKILL');
    const signal = await exitOf(worker.child);
    if (signal !== 'SIGKILL') throw new Error(`the worker child ended by ${signal ?? 'itself'} before the kill: ${worker.output().slice(-1500)}`);
    return killedAt;
  }

  /** The current worker child's output (for failure reports). */
  workerOutput(): string {
    return this.worker?.output().slice(-3000) ?? '';
  }

  /** Starts a workflow on this point's task queue. */
  start(workflowType: string, workflowId: string, input: unknown): Promise<WorkflowHandle> {
    return this.client.workflow.start(workflowType, { taskQueue: this.taskQueue, workflowId: `${workflowId}-${Date.now()}`, args: [input] });
  }

  /** Stops the worker child, the lab and the client, and removes the data directory. */
  async close(): Promise<void> {
    for (const worker of [this.worker, ...this.others]) {
      const child = worker?.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exitOf(child);
      }
    }
    await this.connection.close().catch(() => undefined);
    if (this.lab) await labDown({ dataDir: this.dataDir }).catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A scratch folder for a campaign, in memory when the machine has /dev/shm. */
export function campaignRoot(): string {
  return mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'kubeha-crash-'));
}
