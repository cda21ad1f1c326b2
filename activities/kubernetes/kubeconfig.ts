/**
 * Kubeconfigs from the secret store, read by @kubernetes/client-node's KubeConfig (the 1.4 line: 2.x
 * needs Node >= 22.19) into what a request needs: server URL, TLS material, credentials, default
 * namespace. The library brings what kubectl users expect: embedded or file CA and client certificate,
 * `insecure-skip-tls-verify`, `tls-server-name`, impersonation, static tokens, token files, and exec
 * and auth-provider credential plugins (re-run when the credential they issued expires).
 */
import { createHash } from 'node:crypto';
import https from 'node:https';
import { bufferFromFileOrString, type Cluster, KubeConfig, type User } from '@kubernetes/client-node';
import type { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { cancellationSignal } from '../activityContext';
import type { SecretStore } from '../secrets/store';
import type { SecretName } from '../types';

/** Where and how to reach an API server, from a kubeconfig's current context. */
export interface KubeTarget {
  /** The cluster's server URL, e.g. `https://lb.example:6443`. */
  server: string;
  /** The context's namespace, else `default`: where namespaced objects without one go. */
  namespace: string;
  /** A keep-alive agent carrying the TLS settings (CA, skip-verify, server name) and client certificate. */
  agent: https.Agent;
  /**
   * `Authorization` header value of the user's static credentials (token or basic), when it has one.
   * Tokens from token files and plugins change over time: {@link KubeTarget.credentials} has them.
   */
  authorization?: string;
  /**
   * What one request needs, fresh: headers (`Authorization`, `Impersonate-*`) and the agent to use.
   * Reads token files and runs credential plugins when their last credential expired. Throws a kubeha
   * failure without a credential: SecretMissing, or a retryable CredentialExpired when a plugin failed
   * or `signal` timed out first; a cancellation (any other abort of `signal`) throws its reason.
   */
  credentials(signal?: AbortSignal): Promise<RequestCredentials>;
}

/** The credentials of one request, from {@link KubeTarget.credentials}. */
export interface RequestCredentials {
  headers: Record<string, string>;
  /** The target's agent, or one carrying the client certificate an exec plugin issued. */
  agent: https.Agent;
}

/** A kubeconfig kubeha cannot use; the message never quotes the content. */
class KubeconfigError extends Error {}

/**
 * kubectl's `tokenFile` becomes client-node's token-file auth provider, which re-reads the file every
 * minute as client-go does (client-node itself knows only a `token-file` key, read once at load).
 */
function withTokenFileProvider(file: { users?: unknown }): void {
  const users = Array.isArray(file.users) ? (file.users as ({ user?: Record<string, unknown> } | null)[]) : [];
  for (const entry of users) {
    const user = entry?.user;
    const tokenFile = user?.tokenFile ?? user?.['token-file'];
    if (!user || typeof tokenFile !== 'string' || user.token || user.exec || user['auth-provider']) continue;
    delete user['token-file'];
    user['auth-provider'] = { name: 'tokenFile', config: { tokenFile } };
  }
}

function loadKubeConfig(text: string): KubeConfig {
  let file: unknown;
  try {
    file = parse(text);
  } catch {
    throw new KubeconfigError('it is not valid YAML');
  }
  if (!file || typeof file !== 'object' || Array.isArray(file)) throw new KubeconfigError('it is not a kubeconfig');
  withTokenFileProvider(file);
  const config = new KubeConfig();
  try {
    // Incomplete entries are dropped rather than thrown, so that the checks of the current context
    // (KubeconfigTarget) say what it lacks. JSON is YAML.
    config.loadFromString(JSON.stringify(file), { onInvalidEntry: 'filter' });
  } catch {
    throw new KubeconfigError('it is not a kubeconfig');
  }
  return config;
}

/** TLS material of a kubeconfig entry, read by the library's own helper (file wins over inline data). */
function material(what: string, file: string | undefined, data: string | undefined): string | undefined {
  try {
    return bufferFromFileOrString(file, data)?.toString('utf8');
  } catch {
    throw new KubeconfigError(`its ${what} file ${file} is not readable on the worker`);
  }
}

/** The TLS options of the target's agent: what the library would apply, read once. */
function tlsOptions(cluster: Cluster, user: User | undefined): https.AgentOptions {
  return {
    ca: material('certificate-authority', cluster.caFile, cluster.caData),
    cert: user && material('client-certificate', user.certFile, user.certData),
    key: user && material('client-key', user.keyFile, user.keyData),
    rejectUnauthorized: !cluster.skipTLSVerify,
    servername: cluster.tlsServerName,
  };
}

function staticAuthorization(user: User | undefined): string | undefined {
  if (user?.token) return `Bearer ${user.token.trim()}`;
  if (user?.username) return `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  return undefined;
}

/** The first line of a plugin's diagnostics (stderr), short. */
function firstLine(text: string): string {
  return (text.trim().split('\n')[0] ?? '').slice(0, 200) || 'no message';
}

/**
 * Maps what the library throws while getting credentials. Messages name files and plugin commands,
 * never their output on stdout (where credentials travel) nor the kubeconfig's values.
 */
function credentialFailure(err: unknown, source: string): ApplicationFailure {
  const { code, syscall, path } = (err ?? {}) as NodeJS.ErrnoException;
  const unusable = (reason: string, hint: string) =>
    kubehaFailure({ type: ErrorType.SecretMissing, message: `${source} is not a usable kubeconfig: ${reason}`, retryable: false, hint, details: { code } });
  if (syscall?.startsWith('spawn')) {
    return unusable(
      `its exec or auth-provider plugin "${path ?? ''}" cannot be started on the worker (${code ?? 'failed'})`,
      "install the kubeconfig's credential plugin on the worker (on its PATH), or store a kubeconfig with a client certificate or token",
    );
  }
  if (syscall === 'open' || code === 'ENOENT' || code === 'EACCES') {
    return unusable(
      `its file ${path ?? ''} is not readable on the worker`,
      'make the files the kubeconfig names readable on the worker, or embed their content (…-data fields)',
    );
  }
  if (err instanceof SyntaxError) {
    return unusable(
      'its exec plugin did not print an ExecCredential as JSON',
      'run the plugin by hand: it must print a client.authentication.k8s.io ExecCredential on stdout',
    );
  }
  return kubehaFailure({
    type: ErrorType.CredentialExpired,
    message: `${source}: its exec or auth-provider plugin gave no credential: ${firstLine(err instanceof Error ? err.message : String(err))}`,
    retryable: true,
    hint: 'the credential plugin failed (expired login, unreachable identity provider); run it by hand on the worker to see why',
  });
}

/** `work`, or the reason of `signal` as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A {@link KubeTarget} over the library's KubeConfig. */
class KubeconfigTarget implements KubeTarget {
  readonly server: string;
  readonly namespace: string;
  readonly agent: https.Agent;
  readonly authorization?: string;
  private readonly tls: https.AgentOptions;
  /** The agent of a client certificate an exec plugin issued, kept while the plugin issues the same. */
  private issued?: { cert: string; key: string; agent: https.Agent };

  constructor(
    private readonly config: KubeConfig,
    private readonly source: string,
  ) {
    const contextName = config.getCurrentContext();
    const context = config.getContextObject(contextName);
    if (!context) throw new KubeconfigError(`its current-context "${contextName ?? ''}" is not among its contexts`);
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new KubeconfigError(`cluster "${context.cluster ?? ''}" of the current context has no server`);
    // The library would build a plain-HTTP agent for http:// servers; API servers speak TLS.
    if (!/^https:\/\//i.test(cluster.server)) throw new KubeconfigError(`cluster "${context.cluster}" of the current context is not served over https`);
    const user = config.getCurrentUser() ?? undefined;
    if (user?.exec && !(user.exec as { command?: unknown }).command) throw new KubeconfigError('its exec plugin names no command');
    this.server = cluster.server.replace(/\/+$/, '');
    this.namespace = context.namespace ?? 'default';
    this.tls = tlsOptions(cluster, user);
    this.agent = new https.Agent({ keepAlive: true, ...this.tls });
    this.authorization = staticAuthorization(user);
  }

  async credentials(signal?: AbortSignal): Promise<RequestCredentials> {
    const options: https.RequestOptions = {};
    try {
      // A plugin is not killed on abort (the library keeps no handle on it), only no longer awaited.
      await untilAborted(this.config.applyToHTTPSOptions(options), signal);
    } catch (err) {
      if (signal?.aborted && err === signal.reason) {
        if ((err as Error | undefined)?.name !== 'TimeoutError') throw err;
        throw kubehaFailure({
          type: ErrorType.CredentialExpired,
          message: `${this.source}: its credential plugin gave no credential in time`,
          retryable: true,
          hint: 'the credential plugin hangs (an interactive login, an identity provider that does not answer); run it by hand on the worker',
        });
      }
      throw credentialFailure(err, this.source);
    }
    const headers: Record<string, string> = {};
    // Values are trimmed: client-go trims token files, which usually end with a newline.
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = String(value).trim();
    // Basic credentials come back as `auth`; the static header has them.
    if (!headers.Authorization && this.authorization) headers.Authorization = this.authorization;
    return { headers, agent: this.agentFor(options) };
  }

  /** The target's agent, unless an exec plugin issued another client certificate. */
  private agentFor(options: https.RequestOptions): https.Agent {
    const cert = options.cert?.toString() ?? '';
    const key = options.key?.toString() ?? '';
    if (cert === (this.tls.cert ?? '') && key === (this.tls.key ?? '')) return this.agent;
    if (this.issued?.cert !== cert || this.issued.key !== key) {
      // The previous agent is not destroyed: a request may still use it; its idle sockets do not hold the process.
      this.issued = { cert, key, agent: new https.Agent({ keepAlive: true, ...this.tls, cert, key }) };
    }
    return this.issued.agent;
  }

  /** Closes the agents' sockets. */
  close(): void {
    this.agent.destroy();
    this.issued?.agent.destroy();
  }
}

/**
 * Turns kubeconfig text into a {@link KubeTarget}; `source` names it in credential failures (default
 * "the kubeconfig"). Throws KubeconfigError for what the text itself lacks. Credential plugins run at
 * the first request.
 */
export function parseKubeconfig(text: string, source = 'the kubeconfig'): KubeTarget {
  return new KubeconfigTarget(loadKubeConfig(text), source);
}

/** Options of {@link KubeconfigCache}. */
export interface KubeconfigCacheOptions {
  /** How long a credential plugin may take at load. Default 30000 ms. */
  credentialTimeoutMs?: number;
}

/** Loads kubeconfigs from the secret store, parsed once per secret name and content. */
export class KubeconfigCache {
  private readonly loaded = new Map<string, KubeconfigTarget>();

  constructor(
    private readonly secrets: SecretStore,
    private readonly options: KubeconfigCacheOptions = {},
  ) {}

  /**
   * The target of the kubeconfig in secret `name`, whose credentials were got once. Throws
   * SecretMissing when absent or unusable, CredentialExpired when its plugin failed or hung.
   */
  async load(name: SecretName): Promise<KubeTarget> {
    const content = await this.secrets.get(name);
    // Keyed by content too, so that a rotated kubeconfig under the same name is picked up.
    const key = `${name}\0${createHash('sha256').update(content).digest('hex')}`;
    const cached = this.loaded.get(key);
    if (cached) return cached;
    let target: KubeconfigTarget;
    try {
      target = new KubeconfigTarget(loadKubeConfig(content), `secret "${name}"`);
    } catch (err) {
      if (!(err instanceof KubeconfigError)) throw err;
      throw kubehaFailure({
        type: ErrorType.SecretMissing,
        message: `secret "${name}" is not a usable kubeconfig: ${err.message}`,
        retryable: false,
        hint: 'store the admin kubeconfig (as kubeadm writes /etc/kubernetes/admin.conf: embedded CA and client certificate) under this name',
      });
    }
    // Getting the credentials once now reports a kubeconfig that cannot authenticate before any request.
    const timeout = AbortSignal.timeout(this.options.credentialTimeoutMs ?? 30_000);
    const cancelled = cancellationSignal();
    try {
      await target.credentials(cancelled ? AbortSignal.any([timeout, cancelled]) : timeout);
    } catch (err) {
      target.close();
      throw err;
    }
    // Entries of a rotated secret are never used again; a small bound keeps memory and sockets flat.
    if (this.loaded.size >= 32) {
      for (const old of this.loaded.values()) old.close();
      this.loaded.clear();
    }
    this.loaded.set(key, target);
    return target;
  }
}
