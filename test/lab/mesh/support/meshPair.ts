/**
 * A west/east pair for LinkMeshClusters on real API servers: two kube-apiservers, one kubeconfig with
 * the contexts `west` and `east`, the lab `linkerd` CLI, and a loop doing what neither server runs, with
 * the lab's own controllers where the lab has them: its token and endpoints controllers
 * (lab/kube/kubelet), its cloud load balancers (lab/mesh/runtime) and, on west, its service mirror
 * (lab/mesh/mirror); the Deployment controller and kubelet are stood in for here (Deployments rolled out,
 * one Running and Ready pod each, with an address), since the lab's need Nodes and hosts. The loop
 * writes only what differs, so an unchanged pair sees no write from it.
 *
 * The lab's demo application (lab/mesh/demo.ts), `kubeha-demo/podinfo` on port 9898, is on both clusters.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify, parse } from 'yaml';
import { KubeClient } from '../../../../lab/kube/client';
import { parseKubeconfig } from '../../../../lab/kube/kubeconfig';
import { syncEndpoints } from '../../../../lab/kube/kubelet/endpoints';
import { fillServiceAccountTokens } from '../../../../lab/kube/kubelet/serviceAccountTokens';
import { deployLabDemo, LAB_DEMO_SERVICES } from '../../../../lab/mesh/demo';
import { syncMirrors } from '../../../../lab/mesh/mirror/sync';
import { poolAddress, syncServiceLoadBalancers } from '../../../../lab/mesh/runtime/cloudLoadBalancers';
import { projectRoot } from '../../../../lib/paths';
import { markRolledOut, startTestApiServer, type TestApiServer } from '../../../support/apiserver';

/** The lab linkerd CLI, as kubeha finds it (`LINKERD_PATH`). */
export const LAB_LINKERD = path.join(projectRoot, 'lab', 'tools', 'bin', 'linkerd');
export const MC_NAMESPACE = 'linkerd-multicluster';
export const DEMO = LAB_DEMO_SERVICES[0];
/** Each cluster's VPC, where the lab's cloud load balancers take addresses from. */
const VPC = { west: '10.10.0.0/16', east: '10.20.0.0/16' } as const;
/** The address each cluster's first LoadBalancer Service (its Linkerd gateway) gets. */
export const GATEWAY_IPS = { west: poolAddress(VPC.west, 0), east: poolAddress(VPC.east, 0) } as const;
const POD_PREFIX = { west: '10.10.1', east: '10.20.1' } as const;
const MERGE = 'application/merge-patch+json';

export type PairRole = 'west' | 'east';
type Meta = {
  name: string;
  namespace?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
type Deployment = {
  metadata: Meta;
  spec: {
    replicas?: number;
    template: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: Array<{ name: string; ports?: unknown[] }> } };
  };
  status?: { observedGeneration?: number; availableReplicas?: number; readyReplicas?: number };
};
type Pod = { metadata: Meta; status?: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }> } };

/** A request that must answer 2xx (409 too when `exists` is fine). */
async function must<T>(api: TestApiServer, method: string, apiPath: string, body?: unknown, contentType?: string, exists = false): Promise<T> {
  const res = await api.request<T>(method, apiPath, body, contentType);
  if (exists && res.status === 409) return res.body;
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${apiPath}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
  return res.body;
}

const items = async <T>(api: TestApiServer, apiPath: string) => (await must<{ items?: T[] }>(api, 'GET', apiPath)).items ?? [];

/** One kubeconfig holding both servers: contexts `west` (current) and `east`, each with its own cluster and user. */
function pairKubeconfig(apis: Record<PairRole, TestApiServer>): string {
  type Doc = { clusters: Array<{ cluster: unknown }>; users: Array<{ user: unknown }> };
  const of = (role: PairRole) => parse(apis[role].kubeconfig) as Doc;
  const roles: PairRole[] = ['west', 'east'];
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: roles.map((r) => ({ name: r, cluster: of(r).clusters[0].cluster })),
    users: roles.map((r) => ({ name: `${r}-admin`, user: of(r).users[0].user })),
    contexts: roles.map((r) => ({ name: r, context: { cluster: r, user: `${r}-admin` } })),
    'current-context': 'west',
  });
}

/** The pair, its kubeconfig and the stand-in controllers' loop. */
export class MeshPair {
  /** Passes of the loop so far, and the last error of one (the loop goes on after an error). */
  passes = 0;
  lastError?: string;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly clients: Record<PairRole, KubeClient>;
  private podCount: Record<PairRole, number> = { west: 0, east: 0 };

  private constructor(
    readonly apis: Record<PairRole, TestApiServer>,
    /** The kubeconfig with contexts `west` and `east` (mode 0600). */
    readonly kubeconfigPath: string,
  ) {
    const client = (role: PairRole) => new KubeClient(parseKubeconfig(apis[role].kubeconfig), 10_000);
    this.clients = { west: client('west'), east: client('east') };
  }

  get west(): TestApiServer {
    return this.apis.west;
  }

  get east(): TestApiServer {
    return this.apis.east;
  }

  /** Starts both API servers, writes the kubeconfig into `dir`, the demo service on both, and the loop. */
  static async start(dir: string, intervalMs = 300): Promise<MeshPair> {
    const started = await Promise.allSettled([startTestApiServer(), startTestApiServer()]);
    const [west, east] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    if (!west || !east) {
      await Promise.all([west?.stop(), east?.stop()]);
      throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
    }
    const kubeconfigPath = path.join(dir, 'pair.kubeconfig');
    const pair = new MeshPair({ west, east }, kubeconfigPath);
    try {
      await writeFile(kubeconfigPath, pairKubeconfig(pair.apis), { mode: 0o600 });
      for (const role of ['west', 'east'] as const) await deployLabDemo(pair.clients[role]);
    } catch (err) {
      await pair.stop();
      throw err;
    }
    pair.loop = pair.run(intervalMs);
    return pair;
  }

  /** One pass of every stand-in, waited for (tests call it to settle the pair before reading it). */
  async settle(): Promise<void> {
    await this.pass();
  }

  private async run(intervalMs: number): Promise<void> {
    while (!this.stopped) {
      try {
        await this.pass();
        this.lastError = undefined;
      } catch (err) {
        this.lastError = (err as Error).message;
      }
      this.passes += 1;
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async pass(): Promise<void> {
    for (const role of ['west', 'east'] as const) {
      const client = this.clients[role];
      await fillServiceAccountTokens(client, path.join(this.apis[role].dir, 'ca.crt'));
      await syncServiceLoadBalancers(client, VPC[role]);
      await this.rollOut(role);
      await syncEndpoints(client);
    }
    const report = await syncMirrors({ local: this.clients.west });
    if (report.failed.length) throw new Error(`service mirror: ${report.failed.map((f) => `${f.link}: ${f.error}`).join('; ')}`);
  }

  /** The Deployment controller and the kubelet: each Deployment rolled out, with one Running and Ready pod. */
  private async rollOut(role: PairRole): Promise<void> {
    const api = this.apis[role];
    for (const deploy of await items<Deployment>(api, '/apis/apps/v1/deployments')) {
      const ns = deploy.metadata.namespace!;
      const replicas = deploy.spec.replicas ?? 1;
      if (deploy.status?.observedGeneration !== deploy.metadata.generation || deploy.status?.availableReplicas !== replicas)
        await markRolledOut(api, { kind: 'Deployment', namespace: ns, name: deploy.metadata.name });
      if (replicas > 0) await this.runPod(role, ns, `${deploy.metadata.name}-0`, deploy.spec.template);
    }
  }

  private async runPod(role: PairRole, ns: string, name: string, template: Deployment['spec']['template']): Promise<void> {
    const api = this.apis[role];
    const found = await api.request<Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
    let pod = found.status === 200 ? found.body : undefined;
    // The template's container names and ports (a Service's named targetPort resolves through them);
    // nothing else of it, since its volumes and accounts may not exist here.
    const containers = (template.spec?.containers ?? [{ name: 'main' }]).map((c) => ({ name: c.name, image: 'lab', ...(c.ports ? { ports: c.ports } : {}) }));
    if (!pod) {
      // The namespace's default ServiceAccount, which kube-controller-manager makes and pod admission needs.
      await must(api, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } }, undefined, true);
      pod = await must<Pod>(api, 'POST', `/api/v1/namespaces/${ns}/pods`, {
        metadata: { name, labels: template.metadata?.labels ?? {} },
        spec: { containers },
      });
    }
    const ready = pod.status?.phase === 'Running' && pod.status.podIP && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready) return;
    this.podCount[role] += 1;
    const ip = `${POD_PREFIX[role]}.${this.podCount[role]}`;
    const status = {
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: containers.map((c) => ({ name: c.name, ready: true, restartCount: 0, image: 'lab', imageID: '', state: { running: {} } })),
      },
    };
    await must(api, 'PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, status, MERGE);
  }

  /** Waits for the loop's next complete pass. */
  async nextPass(timeoutMs = 30_000): Promise<void> {
    const target = this.passes + 2;
    const deadline = Date.now() + timeoutMs;
    while (this.passes < target) {
      assert.ok(Date.now() < deadline, `the stand-in loop made no pass within ${timeoutMs} ms (last error: ${this.lastError})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the loop, then both API servers. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.all([this.apis.west.stop(), this.apis.east.stop()]);
  }
}
