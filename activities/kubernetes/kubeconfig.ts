/**
 * Kubeconfigs from the secret store: parsed once per secret name and content into what a request
 * needs (server URL, TLS material, credentials, default namespace).
 *
 * Why not @kubernetes/client-node's KubeConfig: client-node 2.x loads undici 8 at import, which needs
 * Node >= 22.19 and fails to load on the Node 20 kubeha runs on. What kubeadm writes (admin.conf:
 * embedded CA and client certificate) and tokens are all kubeha needs; exec and auth-provider plugins
 * are refused with a clear error.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parse } from 'yaml';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { SecretStore } from '../secrets/store';
import type { SecretName } from '../types';

/** Where and how to reach an API server, from a kubeconfig's current context. */
export interface KubeTarget {
  /** The cluster's server URL, e.g. `https://lb.example:6443`. */
  server: string;
  /** The context's namespace, else `default`: where namespaced objects without one go. */
  namespace: string;
  /** A keep-alive agent carrying the TLS settings and client certificate. */
  agent: https.Agent;
  /** `Authorization` header value (bearer token or basic), when the user has one. */
  authorization?: string;
}

type Named<T> = { name?: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string; namespace?: string } }>[];
  clusters?: Named<{
    cluster?: {
      server?: string;
      'certificate-authority-data'?: string;
      'certificate-authority'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
    };
  }>[];
  users?: Named<{
    user?: {
      'client-certificate-data'?: string;
      'client-certificate'?: string;
      'client-key-data'?: string;
      'client-key'?: string;
      token?: string;
      tokenFile?: string;
      username?: string;
      password?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
    };
  }>[];
}

/** A kubeconfig kubeha cannot use; the message never quotes the content. */
class KubeconfigError extends Error {}

const fromBase64 = (data: string) => Buffer.from(data, 'base64').toString('utf8');

/** Inline data wins over a file path, as in kubectl. */
function material(data: string | undefined, file: string | undefined, what: string): string | undefined {
  if (data) return fromBase64(data);
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new KubeconfigError(`its ${what} file ${file} is not readable on the worker`);
  }
}

/** Turns kubeconfig text into a {@link KubeTarget}. Throws KubeconfigError. */
export function parseKubeconfig(text: string): KubeTarget {
  let file: KubeconfigFile;
  try {
    file = parse(text) as KubeconfigFile;
  } catch {
    throw new KubeconfigError('it is not valid YAML');
  }
  if (!file || typeof file !== 'object') throw new KubeconfigError('it is not a kubeconfig');
  const contextName = file['current-context'];
  const context = file.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new KubeconfigError(`its current-context "${contextName ?? ''}" is not among its contexts`);
  const cluster = file.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new KubeconfigError(`cluster "${context.cluster ?? ''}" of the current context has no server`);
  const user = file.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user.exec || user['auth-provider']) {
    throw new KubeconfigError('its user authenticates through an exec or auth-provider plugin, which kubeha does not run');
  }
  let authorization: string | undefined;
  const token = user.token ?? (user.tokenFile ? material(undefined, user.tokenFile, 'token')?.trim() : undefined);
  if (token) authorization = `Bearer ${token}`;
  else if (user.username) authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  const agent = new https.Agent({
    keepAlive: true,
    ca: material(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate-authority'),
    cert: material(user['client-certificate-data'], user['client-certificate'], 'client-certificate'),
    key: material(user['client-key-data'], user['client-key'], 'client-key'),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    servername: cluster['tls-server-name'],
  });
  return { server: cluster.server.replace(/\/+$/, ''), namespace: context.namespace ?? 'default', agent, authorization };
}

/** Loads kubeconfigs from the secret store, parsed once per secret name and content. */
export class KubeconfigCache {
  private readonly loaded = new Map<string, KubeTarget>();

  constructor(private readonly secrets: SecretStore) {}

  /** The target of the kubeconfig in secret `name`. Throws SecretMissing when absent or unusable. */
  async load(name: SecretName): Promise<KubeTarget> {
    const content = await this.secrets.get(name);
    // Keyed by content too, so that a rotated kubeconfig under the same name is picked up.
    const key = `${name}\0${createHash('sha256').update(content).digest('hex')}`;
    const cached = this.loaded.get(key);
    if (cached) return cached;
    let target: KubeTarget;
    try {
      target = parseKubeconfig(content);
    } catch (err) {
      if (!(err instanceof KubeconfigError)) throw err;
      throw kubehaFailure({
        type: ErrorType.SecretMissing,
        message: `secret "${name}" is not a usable kubeconfig: ${err.message}`,
        retryable: false,
        hint: 'store the admin kubeconfig (as kubeadm writes /etc/kubernetes/admin.conf: embedded CA and client certificate) under this name',
      });
    }
    // Entries of a rotated secret are never used again; a small bound keeps memory and sockets flat.
    if (this.loaded.size >= 32) {
      for (const old of this.loaded.values()) old.agent.destroy();
      this.loaded.clear();
    }
    this.loaded.set(key, target);
    return target;
  }
}
