/**
 * A west/east pair for LinkMeshClusters on real API servers: two kube-apiservers, one kubeconfig with
 * the contexts `west` and `east`, the lab `linkerd` CLI, and a loop standing in for what neither server
 * runs: the token controller (service-account token Secrets filled from a TokenRequest), the cloud
 * controller (LoadBalancer Services get an ingress IP), the Deployment controller and kubelet (Deployments
 * rolled out, one Running and Ready pod each, with an address), the endpoints controller (Endpoints of
 * selector Services) and, on west, the lab service mirror (lab/mesh/mirror). The loop writes only what
 * differs, so an unchanged pair sees no write from it.
 *
 * The demo service east exports, `kubeha-demo/podinfo` on port 9898, is on both clusters.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify, parse } from 'yaml';
import { KubeClient } from '../../../../lab/kube/client';
import { parseKubeconfig } from '../../../../lab/kube/kubeconfig';
import { syncMirrors } from '../../../../lab/mesh/mirror/sync';
import { projectRoot } from '../../../../lib/paths';
import { markRolledOut, startTestApiServer, type TestApiServer } from '../../../support/apiserver';

/** The lab linkerd CLI, as kubeha finds it (`LINKERD_PATH`). */
export const LAB_LINKERD = path.join(projectRoot, 'lab', 'tools', 'bin', 'linkerd');
export const MC_NAMESPACE = 'linkerd-multicluster';
export const DEMO = { namespace: 'kubeha-demo', name: 'podinfo', port: 9898 } as const;
/** The ingress address east's cloud would give its LoadBalancer Services (and west's, its own). */
export const GATEWAY_IPS = { west: '10.10.2.200', east: '10.20.2.200' } as const;
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
  spec: { replicas?: number; template: { metadata?: { labels?: Record<string, string> } } };
  status?: { observedGeneration?: number; availableReplicas?: number; readyReplicas?: number };
};
type Pod = { metadata: Meta; status?: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }> } };
type Service = {
  metadata: Meta;
  spec: { type?: string; selector?: Record<string, string>; ports?: Array<{ name?: string; port: number; targetPort?: number | string; protocol?: string }> };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
};
type Secret = { metadata: Meta; type?: string; data?: Record<string, string> };
type Endpoints = { metadata: Meta; subsets?: unknown[] };

/** A request that must answer 2xx (409 too when `exists` is fine). */
async function must<T>(api: TestApiServer, method: string, apiPath: string, body?: unknown, contentType?: string, exists = false): Promise<T> {
  const res = await api.request<T>(method, apiPath, body, contentType);
  if (exists && res.status === 409) return res.body;
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${apiPath}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
  return res.body;
}

const items = async <T>(api: TestApiServer, apiPath: string) => (await must<{ items?: T[] }>(api, 'GET', apiPath)).items ?? [];
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

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
  private readonly westClient: KubeClient;
  private podCount: Record<PairRole, number> = { west: 0, east: 0 };

  private constructor(
    readonly apis: Record<PairRole, TestApiServer>,
    /** The kubeconfig with contexts `west` and `east` (mode 0600). */
    readonly kubeconfigPath: string,
  ) {
    this.westClient = new KubeClient(parseKubeconfig(apis.west.kubeconfig), 10_000);
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
      for (const role of ['west', 'east'] as const) await pair.demoService(role);
    } catch (err) {
      await pair.stop();
      throw err;
    }
    pair.loop = pair.run(intervalMs);
    return pair;
  }

  /** `kubeha-demo/podinfo`: a Deployment and a selector Service on port 9898 (its pod and Endpoints come from the loop). */
  private async demoService(role: PairRole): Promise<void> {
    const api = this.apis[role];
    const { namespace: ns, name, port } = DEMO;
    await must(api, 'POST', '/api/v1/namespaces', { metadata: { name: ns } }, undefined, true);
    const labels = { app: name };
    await must(
      api,
      'POST',
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      {
        metadata: { name, labels },
        spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: 'lab/podinfo' }] } } },
      },
      undefined,
      true,
    );
    await must(
      api,
      'POST',
      `/api/v1/namespaces/${ns}/services`,
      { metadata: { name, labels }, spec: { selector: labels, ports: [{ name: 'http', port, targetPort: port, protocol: 'TCP' }] } },
      undefined,
      true,
    );
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
      await this.fillTokens(role);
      await this.loadBalancers(role);
      await this.rollOut(role);
      await this.endpoints(role);
    }
    const report = await syncMirrors({ local: this.westClient });
    if (report.failed.length) throw new Error(`service mirror: ${report.failed.map((f) => `${f.link}: ${f.error}`).join('; ')}`);
  }

  /** The token controller: each service-account token Secret without a token gets one from a TokenRequest. */
  private async fillTokens(role: PairRole): Promise<void> {
    const api = this.apis[role];
    const secrets = await items<Secret>(api, `/api/v1/secrets?fieldSelector=${encodeURIComponent('type=kubernetes.io/service-account-token')}`);
    for (const secret of secrets) {
      const account = secret.metadata.annotations?.['kubernetes.io/service-account.name'];
      if (!account || secret.data?.token) continue;
      const ns = secret.metadata.namespace!;
      const request = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } };
      const token = await must<{ status: { token: string } }>(api, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`, request);
      const data = { token: Buffer.from(token.status.token).toString('base64'), namespace: Buffer.from(ns).toString('base64') };
      await must(api, 'PATCH', `/api/v1/namespaces/${ns}/secrets/${secret.metadata.name}`, { data }, MERGE);
    }
  }

  /** The cloud controller: a LoadBalancer Service without an ingress gets the cluster's address (never loopback). */
  private async loadBalancers(role: PairRole): Promise<void> {
    const api = this.apis[role];
    for (const svc of await items<Service>(api, '/api/v1/services')) {
      if (svc.spec.type !== 'LoadBalancer' || svc.status?.loadBalancer?.ingress?.length) continue;
      const status = { status: { loadBalancer: { ingress: [{ ip: GATEWAY_IPS[role] }] } } };
      await must(api, 'PATCH', `/api/v1/namespaces/${svc.metadata.namespace}/services/${svc.metadata.name}/status`, status, MERGE);
    }
  }

  /** The Deployment controller and the kubelet: each Deployment rolled out, with one Running and Ready pod. */
  private async rollOut(role: PairRole): Promise<void> {
    const api = this.apis[role];
    for (const deploy of await items<Deployment>(api, '/apis/apps/v1/deployments')) {
      const ns = deploy.metadata.namespace!;
      const replicas = deploy.spec.replicas ?? 1;
      if (deploy.status?.observedGeneration !== deploy.metadata.generation || deploy.status?.availableReplicas !== replicas)
        await markRolledOut(api, { kind: 'Deployment', namespace: ns, name: deploy.metadata.name });
      if (replicas > 0) await this.runPod(role, ns, `${deploy.metadata.name}-0`, deploy.spec.template.metadata?.labels ?? {});
    }
  }

  private async runPod(role: PairRole, ns: string, name: string, labels: Record<string, string>): Promise<void> {
    const api = this.apis[role];
    const found = await api.request<Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
    let pod = found.status === 200 ? found.body : undefined;
    if (!pod) {
      // The namespace's default ServiceAccount, which kube-controller-manager makes and pod admission needs.
      await must(api, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } }, undefined, true);
      pod = await must<Pod>(api, 'POST', `/api/v1/namespaces/${ns}/pods`, {
        metadata: { name, labels },
        spec: { containers: [{ name: 'main', image: 'lab' }] },
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
        containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: 'lab', imageID: '', state: { running: {} } }],
      },
    };
    await must(api, 'PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, status, MERGE);
  }

  /** The endpoints controller: Endpoints of each selector Service, at its ready pods' addresses. */
  private async endpoints(role: PairRole): Promise<void> {
    const api = this.apis[role];
    const pods = await items<Pod>(api, '/api/v1/pods');
    for (const svc of await items<Service>(api, '/api/v1/services')) {
      const selector = svc.spec.selector;
      if (!selector || Object.keys(selector).length === 0) continue;
      const ns = svc.metadata.namespace!;
      const ips = pods
        .filter((p) => p.metadata.namespace === ns && selects(selector, p.metadata.labels) && p.status?.podIP)
        .map((p) => ({ ip: p.status!.podIP! }))
        .sort((a, b) => a.ip.localeCompare(b.ip));
      const ports = (svc.spec.ports ?? []).map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
        protocol: p.protocol ?? 'TCP',
      }));
      const subsets = ips.length ? [{ addresses: ips, ports }] : [];
      const at = `/api/v1/namespaces/${ns}/endpoints/${svc.metadata.name}`;
      const current = await api.request<Endpoints>('GET', at);
      const want = { metadata: { name: svc.metadata.name, namespace: ns }, subsets };
      if (current.status === 404) await must(api, 'POST', `/api/v1/namespaces/${ns}/endpoints`, want);
      else if (JSON.stringify(current.body.subsets ?? []) !== JSON.stringify(subsets))
        await must(api, 'PUT', at, { ...want, metadata: { ...want.metadata, resourceVersion: current.body.metadata.resourceVersion } });
    }
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
