/**
 * The lab pair for FailoverToEast end to end (failover.test.ts and bench/webhookToShift.ts lab mode):
 * `lab up` with west and east on addresses of their own, a real Temporal dev server and kubeha's real
 * worker (with the lab linkerd), both clusters bootstrapped at once, the pair's files, the demo
 * application and the lab's mesh runtime, LinkMeshClusters run by the same worker, `kubeha
 * webhook`'s server in this process, and what the test reads back from west's API and the lab AWS.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../../../activities';
// The lab's own API client reads what kubeha wrote: a defect in kubeha's client cannot hide itself.
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { FileSecretStore } from '../../../activities/secrets/store';
import { createSshShell, FileKnownHostsStore } from '../../../activities/ssh';
import type { RemoteShell } from '../../../activities/ssh/types';
import { prepareWebhook } from '../../../client/webhook/command';
import { ALERTMANAGER_PATH, startWebhookServer, type WebhookServer } from '../../../client/webhook/server';
import type { BootstrapStackedEtcdInput } from '../../../common/inputs/bootstrapStackedEtcd';
import type { Progress } from '../../../common/progress';
import type { LabAwsStatus } from '../../../lab/aws';
import { LAB_DEMO_SERVICES } from '../../../lab/mesh/demo';
import type { LinkMeshResult } from '../../../workflows/mesh';
import { projectRoot } from '../../../lib/paths';
import { defaultTopologyInput, parseTopology, type LabUpResult } from '../../../lab/orchestrator';
import type { LabGreeters } from '../../../lab/orchestrator/greeters';
import { LAB_SPLIT_API_VERSION, readLabAwsStatus, startLabPairMesh, withContext, writeLabPairFiles, type LabPairFiles } from '../../../lab/orchestrator/pair';
import { kubehaDataConverter } from '../../../lib/codec/dataConverter';
import { createWorker } from '../../../worker';
import { startTestTemporal } from '../../support/temporal';
import { type SplitWatchRecord, watchSplitResilient } from './splitWatch';
import { startTestLab } from './support';

/**
 * West (3 control planes, 1 spare, 2 workers) on 127.0.11.101-106 and east (1 + 1) on
 * 127.0.21.101-102, load balancers on 127.0.81.x, an /etc/hosts block of its own.
 */
export function failoverTopology(label = `failover-e2e-${process.pid}`) {
  const [west, east] = defaultTopologyInput().clusters;
  const at = (cluster: typeof west, octet: number) => ({ ...cluster, hosts: cluster.hosts.map((h, i) => ({ ...h, address: `127.0.${octet}.${101 + i}` })) });
  return parseTopology({ clusters: [at(west, 11), at(east, 21)], loadBalancerAddressPrefix: '127.0.81', hostsBlockLabel: label });
}

/** What a bootstrap returned, with its progress. */
export interface BootstrapRun {
  progress: Progress;
  result: { etcd: { members: number }; kubeconfigSecret?: string; controlPlaneEndpoint: string };
  ms: number;
}

/** What a LinkMeshClusters run returned, with its progress. */
export interface LinkRun {
  progress: Progress;
  result: LinkMeshResult;
  ms: number;
}

/** A running pair lab with Temporal and kubeha's worker. */
export interface FailoverLab {
  dataDir: string;
  lab: LabUpResult;
  env: TestWorkflowEnvironment;
  /** A client with kubeha's data converter (payloads are encrypted). */
  client: Client;
  taskQueue: string;
  secrets: FileSecretStore;
  /** Runs BootstrapStackedEtcd on `cluster` with the input the lab wrote (onFailure: fail). */
  bootstrap(cluster: string): Promise<BootstrapRun>;
  /** Runs LinkMeshClusters with the input `kubeha lab kubeconfig` wrote (onFailure: fail). */
  link(inputFile: string, workflowId: string): Promise<LinkRun>;
  stop(): Promise<void>;
}

/** Lab up (both clusters), Temporal, and kubeha's real worker and activities. */
export async function startFailoverLab(options: { label?: string; taskQueue?: string } = {}): Promise<FailoverLab> {
  const testLab = await startTestLab('failover', failoverTopology(options.label));
  const { dataDir, lab } = testLab;
  const taskQueue = options.taskQueue ?? 'kubeha-lab-failover';
  let env: TestWorkflowEnvironment | undefined;
  let shell: RemoteShell | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const stop = async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await shell?.close();
    await env?.teardown();
    await testLab.close();
  };
  // kubeha's mesh driver runs the lab linkerd, as `kubeha start` does when a lab is up.
  process.env.LINKERD_PATH ??= path.join(projectRoot, 'lab', 'tools', 'bin', 'linkerd');
  try {
    env = await startTestTemporal();
    shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dataDir, 'known_hosts.json')) });
    const secrets = new FileSecretStore(path.join(dataDir, 'secrets'));
    worker = await createWorker({
      connection: env.nativeConnection,
      settings: { address: '', namespace: env.namespace ?? 'default', taskQueue, uiUrl: '' },
      activities: createActivities({ secrets, shell }),
      overrides: { shutdownGraceTime: '1 second' },
    });
    running = worker.run();
    const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: kubehaDataConverter().dataConverter });
    /** Starts `type` with `input` and waits for its end: its result, its progress and how long it took. */
    const runToEnd = async <R>(type: string, workflowId: string, input: unknown, what: string): Promise<{ progress: Progress; result: R; ms: number }> => {
      const started = Date.now();
      const handle = await client.workflow.start(type, { taskQueue, workflowId, args: [input] });
      const result = (await handle.result().catch((err: unknown) => {
        if (err instanceof WorkflowFailedError) throw new Error(`${what}: ${err.message}: ${JSON.stringify(err.cause, null, 1)}`);
        throw err;
      })) as R;
      return { progress: await handle.query<Progress>('progress'), result, ms: Date.now() - started };
    };
    return {
      dataDir,
      lab,
      env,
      client,
      taskQueue,
      secrets,
      async bootstrap(cluster) {
        const input = { ...(JSON.parse(readFileSync(lab.state.inputs[cluster], 'utf8')) as BootstrapStackedEtcdInput), onFailure: 'fail' as const };
        return runToEnd('BootstrapStackedEtcd', `failover-e2e-bootstrap-${cluster}`, input, `bootstrap of ${cluster}`);
      },
      async link(inputFile, workflowId) {
        const input = { ...(JSON.parse(readFileSync(inputFile, 'utf8')) as Record<string, unknown>), onFailure: 'fail' };
        return runToEnd<LinkMeshResult>('LinkMeshClusters', workflowId, input, 'LinkMeshClusters');
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The pair's files (short failback window, failures fail the run), the demo application, its greeters and the lab's mesh runtime. */
export async function preparePair(lab: FailoverLab, hysteresisSeconds: number): Promise<LabPairFiles & { greeters: LabGreeters }> {
  const files = await writeLabPairFiles({ dataDir: lab.dataDir, hysteresisSeconds, onFailure: 'fail' });
  const mesh = await startLabPairMesh({ dataDir: lab.dataDir });
  return { ...files, greeters: mesh.greeters };
}

/** `kubeha webhook`'s server in this process, configured by the lab's routing file (Bearer auth). */
export interface LabWebhook {
  server: WebhookServer;
  /** `…/v1/alertmanager`. */
  url: string;
  token: string;
  close(): Promise<void>;
}

/** Starts the webhook as `kubeha webhook --config <routes> --listen 127.0.0.1:0` does, on the lab's Temporal. */
export async function startLabWebhook(lab: FailoverLab, files: LabPairFiles): Promise<LabWebhook> {
  const config = await prepareWebhook({ config: files.webhookConfig, listen: { host: '127.0.0.1', port: 0 }, insecureNoAuth: false });
  const server = await startWebhookServer({ config, client: lab.client, taskQueue: lab.taskQueue });
  return { server, url: `${server.url}${ALERTMANAGER_PATH}`, token: readFileSync(files.webhookToken, 'utf8').trim(), close: () => server.close() };
}

/** An API client for one context of the pair's kubeconfig (what `kubectl --context` would use). */
export function contextClient(files: LabPairFiles, context: string): KubeClient {
  return new KubeClient(parseKubeconfig(withContext(readFileSync(files.kubeconfig, 'utf8'), context)), 5000);
}

/** The lab's demo service and its split on west. */
export const DEMO = LAB_DEMO_SERVICES[0];
const splitCollection = `/apis/${LAB_SPLIT_API_VERSION}/namespaces/${DEMO.namespace}/httproutes`;

interface HttpRouteView {
  metadata?: { resourceVersion?: string };
  spec?: { rules?: Array<{ backendRefs?: Array<{ name: string; weight?: number }> }> };
}

/** A backend's weight in an HTTPRoute (the first rule naming it; absent weight is 1, as Gateway API says). */
function routeWeight(route: HttpRouteView, backend: string): number {
  for (const rule of route.spec?.rules ?? []) {
    const ref = rule.backendRefs?.find((b) => b.name === backend);
    if (ref) return ref.weight ?? 1;
  }
  return 0;
}

/** West's HTTPRoute (the split LinkMeshClusters wrote) as its API serves it: each backend's weight. */
export async function readSplit(west: KubeClient): Promise<{ west: number; east: number; resourceVersion: string }> {
  const route = await west.get<HttpRouteView>(`${splitCollection}/${DEMO.name}`);
  return { west: routeWeight(route, DEMO.name), east: routeWeight(route, `${DEMO.name}-east`), resourceVersion: route.metadata?.resourceVersion ?? '' };
}

/** The Events recorded on west's HTTPRoute, oldest first. */
export async function splitEvents(west: KubeClient): Promise<Array<{ reason: string; message: string; name: string }>> {
  const selector = encodeURIComponent(`involvedObject.kind=HTTPRoute,involvedObject.name=${DEMO.name}`);
  const list = await west.get<{ items: Array<{ metadata: { name: string; creationTimestamp: string }; reason: string; message: string }> }>(
    `/api/v1/namespaces/${DEMO.namespace}/events?fieldSelector=${selector}`,
  );
  return list.items
    .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name))
    .map((e) => ({ reason: e.reason, message: e.message, name: e.metadata.name }));
}

/** West's API load balancer targets as the lab AWS data plane sees them: address → state. */
export async function westTargets(lab: FailoverLab, lbName: string): Promise<Record<string, string>> {
  const status: LabAwsStatus = await readLabAwsStatus(lab.lab.state);
  const lb = status.loadBalancers.find((l) => l.name === lbName);
  return Object.fromEntries((lb?.targets ?? []).map((t) => [t.id, t.state]));
}

/**
 * Watches west's HTTPRoute through west's API (a Kubernetes watch, not polling, resumed and relisted
 * as an informer would: splitWatch.ts) and calls `onEast` with east's weight and the time
 * (performance.now()) each change arrived. Returns a stop function and the watch's record.
 */
export async function watchSplit(files: LabPairFiles, onEast: (east: number, at: number) => void): Promise<{ stop: () => void; record: SplitWatchRecord }> {
  const west = contextClient(files, 'west');
  return watchSplitResilient(
    {
      target: parseKubeconfig(withContext(readFileSync(files.kubeconfig, 'utf8'), 'west')),
      collection: splitCollection,
      name: DEMO.name,
      read: () => readSplit(west),
      eastOf: (object) => routeWeight(object as HttpRouteView, `${DEMO.name}-east`),
    },
    onEast,
  );
}
