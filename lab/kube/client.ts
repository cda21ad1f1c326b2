/**
 * A small Kubernetes REST client over node:https: client-certificate, bearer-token or anonymous,
 * verified against a CA or (discovery only) not verified. Enough for kubeadm's and the kubelet's
 * few calls, and it starts in milliseconds where a full client library takes seconds.
 */
import https from 'node:https';
import type { KubeTarget } from './kubeconfig';

/** A non-2xx answer of the API server, with its Status message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A transport failure (refused, reset, timeout): the server did not answer. */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

/** An object as the API returns it. */
export type KubeObject = Record<string, unknown> & {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Record<string, unknown>[];
    uid?: string;
    deletionTimestamp?: string;
    generation?: number;
  };
};

const DEFAULT_TIMEOUT_MS = 10_000;

/** A client for one API server endpoint and identity. */
export class KubeClient {
  constructor(
    readonly target: KubeTarget,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /** The same identity against another server URL (for example the host's own API server). */
  withServer(server: string): KubeClient {
    return new KubeClient({ ...this.target, server }, this.timeoutMs);
  }

  /** Sends a request; resolves with the status and the parsed body (text when not JSON). */
  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: unknown }> {
    const url = new URL(path, this.target.server);
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(payload.length);
    }
    if (this.target.user.token) headers.Authorization = `Bearer ${this.target.user.token}`;
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          headers,
          ca: this.target.caPem,
          cert: this.target.user.clientCertificatePem,
          key: this.target.user.clientKeyPem,
          rejectUnauthorized: !this.target.insecure,
          // The endpoint is an IP or a lab DNS name; the certificate's SANs are checked by node.
          timeout: this.timeoutMs,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = text;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', (err) => reject(new TransportError(err.message)));
        },
      );
      // Go's url.Error names the method as "Get", "Post", ...
      const op = method.charAt(0) + method.slice(1).toLowerCase();
      req.on('timeout', () =>
        req.destroy(new TransportError(`${op} "${url.href}": net/http: request canceled (Client.Timeout exceeded while awaiting headers)`)),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof TransportError) return reject(err);
        const what = err.code === 'ECONNREFUSED' ? `dial tcp ${url.host}: connect: connection refused` : err.message;
        reject(new TransportError(`${op} "${url.href}": ${what}`));
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  private async call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const { status, body: answer } = await this.request(method, path, body, contentType);
    if (status >= 200 && status < 300) return answer as T;
    const statusObj = answer && typeof answer === 'object' ? (answer as { message?: string; reason?: string }) : {};
    throw new ApiError(status, statusObj.message ?? `the server responded with status ${status}`, statusObj.reason);
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** GET that answers undefined on 404. */
  async find<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  create<T = KubeObject>(collection: string, obj: unknown): Promise<T> {
    return this.call<T>('POST', collection, obj);
  }

  put<T = KubeObject>(path: string, obj: unknown): Promise<T> {
    return this.call<T>('PUT', path, obj);
  }

  /** JSON merge patch (RFC 7386). */
  mergePatch<T = KubeObject>(path: string, patch: unknown): Promise<T> {
    return this.call<T>('PATCH', path, patch, 'application/merge-patch+json');
  }

  /** Strategic merge patch (lists merged by their patch key, e.g. conditions by type). */
  strategicPatch<T = KubeObject>(path: string, patch: unknown): Promise<T> {
    return this.call<T>('PATCH', path, patch, 'application/strategic-merge-patch+json');
  }

  /** DELETE that ignores 404. */
  async remove(path: string): Promise<void> {
    try {
      await this.call('DELETE', path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return;
      throw err;
    }
  }

  /** Creates the object, or replaces it when it exists (kubeadm's apiclient.CreateOrUpdate*). */
  async createOrUpdate(collection: string, obj: KubeObject): Promise<KubeObject> {
    try {
      return await this.create(collection, obj);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
    }
    const path = `${collection}/${obj.metadata?.name}`;
    const current = await this.get(path);
    return this.put(path, { ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } });
  }

  /** Creates the object unless it exists (kubeadm's CreateOrRetain). */
  async createIfMissing(collection: string, obj: KubeObject): Promise<void> {
    try {
      await this.create(collection, obj);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
    }
  }
}

/** Whether an error means the server did not answer (or answered 5xx / 429): worth retrying. */
export function retriable(err: unknown): boolean {
  return err instanceof TransportError || (err instanceof ApiError && (err.status >= 500 || err.status === 429));
}

/** Retries `fn` on transient errors until the deadline; the last error is thrown. */
export async function withRetry<T>(fn: () => Promise<T>, timeoutMs: number, intervalMs = 1000, isRetriable: (err: unknown) => boolean = retriable): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetriable(err) || Date.now() + intervalMs > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
