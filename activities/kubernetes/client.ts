/**
 * The small API client of kubeha's Kubernetes activities: JSON over HTTPS with the kubeconfig's
 * credentials (from @kubernetes/client-node, see kubeconfig.ts), discovery to find each kind's resource
 * path, and server-side apply. Every request has a timeout and follows the activity's cancellation.
 *
 * Objects travel exactly as the manifest wrote them, as raw JSON: client-node's KubernetesObjectApi
 * serializes known kinds through its generated models, which keep only the fields they know under the
 * names they know (a CRD's `x-kubernetes-preserve-unknown-fields` and `x-kubernetes-validations` are
 * dropped, and so is any field newer than the library).
 */
import https from 'node:https';
import { KubeApiError, kubeFailure } from './errors';
import type { KubeTarget } from './kubeconfig';

/** Knobs of {@link KubeClient}. */
export interface KubeClientOptions {
  /** Each HTTP request fails after this long. */
  requestTimeoutMs: number;
  /** Aborts requests (the activity's cancellation signal). */
  signal?: AbortSignal;
  /**
   * Every request on a connection of its own, closed after it. A load balancer routes each TCP
   * connection once, so a kept-alive one stays with the server it first reached, even after that server
   * left the target group: a probe of what the load balancer serves now must not reuse one.
   */
  freshConnections?: boolean;
}

/** Server-side apply options. */
export interface ApplyOptions {
  fieldManager: string;
  dryRun: boolean;
}

/** A Kubernetes object as plain JSON, with what server-side apply needs (manifest.ts checks it). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** One entry of an APIResourceList (discovery). */
interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** An HTTP answer: status and body (parsed JSON when it is JSON, else text). */
export interface KubeResponse {
  status: number;
  body: unknown;
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` otherwise. */
function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** Talks to one API server as one kubeconfig user. */
export class KubeClient {
  /** APIResourceLists by apiVersion; refetched when a kind is missing (new CRDs). */
  private readonly discovery = new Map<string, ApiResource[]>();

  constructor(
    private readonly target: KubeTarget,
    private readonly options: KubeClientOptions,
  ) {}

  /** The API server URL, for messages. */
  get server(): string {
    return this.target.server;
  }

  /** Where namespaced objects without a namespace go. */
  get namespaceDefault(): string {
    return this.target.namespace;
  }

  /** Maps an error of this client's requests to a kubeha failure. */
  failure(err: unknown, what: string): Error {
    return kubeFailure(err, what, this.server, this.options.signal);
  }

  /**
   * One request, whatever the status; network trouble, timeouts and cancellation throw, and so do
   * credentials that cannot be had (kubeha failures, see {@link KubeTarget.credentials}).
   */
  async request(method: string, apiPath: string, body?: string, contentType?: string): Promise<KubeResponse> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const signal = this.options.signal ? AbortSignal.any([timeout, this.options.signal]) : timeout;
    // Inside the request's time: a credential plugin may run here.
    const credentials = await this.target.credentials(signal);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'kubeha', ...credentials.headers };
    if (body !== undefined) headers['Content-Type'] = contentType ?? 'application/json';
    const agent = this.options.freshConnections ? new https.Agent({ ...credentials.agent.options, keepAlive: false }) : credentials.agent;
    return new Promise<KubeResponse>((resolve, reject) => {
      const req = https.request(`${this.target.server}${apiPath}`, { method, headers, agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          if ((res.headers['content-type'] ?? '').includes('json')) {
            try {
              parsed = JSON.parse(text);
            } catch {
              // keep the text: the error message will show it
            }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', (err) => reject(timeout.aborted ? Object.assign(new Error('request timed out'), { name: 'TimeoutError' }) : err));
      req.end(body);
    }).finally(() => {
      if (agent !== credentials.agent) agent.destroy();
    });
  }

  /** A request that must answer 2xx; anything else throws {@link KubeApiError}. */
  private async expectOk<T>(method: string, apiPath: string, body?: string, contentType?: string): Promise<T> {
    const res = await this.request(method, apiPath, body, contentType);
    if (res.status === 403) throw new KubeApiError(res.status, res.body, !(await this.ready()));
    if (res.status < 200 || res.status > 299) throw new KubeApiError(res.status, res.body);
    return res.body as T;
  }

  /** Whether /readyz answers 200 (a refusal or an error counts as not ready). */
  private async ready(): Promise<boolean> {
    try {
      return (await this.request('GET', '/readyz')).status === 200;
    } catch {
      return false;
    }
  }

  /** GET of an API path as JSON. */
  get<T = KubeObject>(apiPath: string): Promise<T> {
    return this.expectOk<T>('GET', apiPath);
  }

  /** GET that answers undefined for 404. */
  async find<T = KubeObject>(apiPath: string): Promise<T | undefined> {
    try {
      return await this.get<T>(apiPath);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** The resource serving `kind` in `apiVersion`, or undefined when the server does not serve it. */
  private async resource(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    const pick = (list?: ApiResource[]) => list?.find((r) => r.kind === kind && !r.name.includes('/'));
    const known = pick(this.discovery.get(apiVersion));
    if (known) return known;
    const list = await this.find<{ resources?: ApiResource[] }>(groupVersionPath(apiVersion));
    if (!list) return undefined;
    this.discovery.set(apiVersion, list.resources ?? []);
    return pick(list.resources);
  }

  /** Whether the server serves `kind` in `apiVersion` (false while a CRD is not established yet). */
  async serves(apiVersion: string, kind: string): Promise<boolean> {
    return (await this.resource(apiVersion, kind)) !== undefined;
  }

  /**
   * The API path of an object. Namespaced objects without a namespace get the default one (written
   * into `object`, so that callers see where it went); cluster-scoped objects ignore any namespace.
   */
  async pathOf(object: KubeObject): Promise<string> {
    const resource = await this.resource(object.apiVersion, object.kind);
    if (!resource) throw new KubeApiError(404, { message: `the server does not serve ${object.kind} in ${object.apiVersion}` });
    let namespacePart = '';
    if (resource.namespaced) {
      object.metadata.namespace ??= this.namespaceDefault;
      namespacePart = `/namespaces/${encodeURIComponent(object.metadata.namespace)}`;
    }
    return `${groupVersionPath(object.apiVersion)}${namespacePart}/${resource.name}/${encodeURIComponent(object.metadata.name)}`;
  }

  /**
   * Server-side apply of `object`. Conflicts with other field managers are forced, as
   * `kubectl apply --server-side --force-conflicts` does.
   */
  async apply(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const query = new URLSearchParams({ fieldManager: options.fieldManager, force: 'true' });
    if (options.dryRun) query.set('dryRun', 'All');
    // JSON is YAML, which the apply content type takes.
    return this.expectOk<KubeObject>('PATCH', `${await this.pathOf(object)}?${query}`, JSON.stringify(object), 'application/apply-patch+yaml');
  }
}
