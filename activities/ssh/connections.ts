/**
 * SSH connections with host key verification, pooled per (user, address, port).
 */
import type { ApplicationFailure } from '@temporalio/common';
import { Client, type ConnectConfig } from 'ssh2';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { authenticationFailed, hostKeyMismatch, unreachable } from './failures';
import { sshFingerprint, sshKeyType } from './fingerprint';
import { knownHostsEndpoint, type KnownHostsStore } from './knownHosts';

/** What the transport logs. pino's Logger fits. */
export interface ShellLogger {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** What {@link ConnectionPool} needs. */
export interface ConnectionPoolDeps {
  /** The private key (PEM/OpenSSH text) kubeha logs in with. */
  privateKey: (host: HostSpec) => Promise<string>;
  knownHosts: KnownHostsStore;
  logger?: ShellLogger;
  /** Seconds between SSH keepalives; a lost peer is noticed after 3 missed ones. Default 15. */
  keepaliveSeconds?: number;
}

/** A pooled connection and whether this call opened it. */
export interface PooledConnection {
  client: Client;
  fresh: boolean;
}

/** The pool key: one connection per user, address and port. */
export function poolKey(host: HostSpec): string {
  return `${host.ssh.user}@${host.address}:${host.ssh.port}`;
}

/** Opens SSH connections on demand and reuses them; drops a connection as soon as it errs or closes. */
export class ConnectionPool {
  private readonly open = new Map<string, Promise<Client>>();

  constructor(private readonly deps: ConnectionPoolDeps) {}

  /** A ready connection to the host, reused when one is open. */
  async get(host: HostSpec): Promise<PooledConnection> {
    const key = poolKey(host);
    const existing = this.open.get(key);
    if (existing) return { client: await existing, fresh: false };
    const opening = this.connect(host);
    this.open.set(key, opening);
    opening.catch(() => {
      if (this.open.get(key) === opening) this.open.delete(key);
    });
    return { client: await opening, fresh: true };
  }

  /** Forgets a connection (it failed) and ends it. */
  discard(host: HostSpec, client: Client): void {
    const key = poolKey(host);
    const pooled = this.open.get(key);
    if (pooled) {
      void pooled.then(
        (c) => {
          if (c === client && this.open.get(key) === pooled) this.open.delete(key);
        },
        () => undefined,
      );
    }
    client.end();
  }

  /** Ends every connection. */
  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(
      all.map(async (pending) => {
        const client = await pending.catch(() => undefined);
        if (!client) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2000);
          client.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          client.end();
        });
      }),
    );
  }

  private async connect(host: HostSpec): Promise<Client> {
    const { logger } = this.deps;
    const key = poolKey(host);
    const privateKey = await this.deps.privateKey(host);
    const client = new Client();
    // ssh2 may emit more than one error while a connection fails; an unheard 'error' would crash the worker.
    client.on('error', () => undefined);
    // Set by the host key check, so the generic "verification failed" error becomes ours.
    let hostKeyFailure: ApplicationFailure | undefined;
    const config: ConnectConfig = {
      host: host.address,
      port: host.ssh.port,
      username: host.ssh.user,
      privateKey,
      readyTimeout: host.ssh.connectTimeoutSeconds * 1000,
      keepaliveInterval: (this.deps.keepaliveSeconds ?? 15) * 1000,
      keepaliveCountMax: 3,
      hostVerifier: (keyBlob: Buffer, verify: (valid: boolean) => void) => {
        this.verifyHostKey(host, keyBlob).then(
          (failure) => {
            hostKeyFailure = failure;
            verify(failure === undefined);
          },
          (err: Error) => {
            hostKeyFailure = unreachable(host, 'cannot check the host key of', err);
            verify(false);
          },
        );
      },
    };
    const started = Date.now();
    const connected = await new Promise<Client>((resolve, reject) => {
      const onError = (err: Error & { level?: string }) => {
        cleanup();
        client.end();
        if (hostKeyFailure) reject(hostKeyFailure);
        else if (err.level === 'client-authentication') reject(authenticationFailed(host, 'the host accepted none of our keys'));
        else reject(unreachable(host, 'cannot connect over SSH to', err));
      };
      const onClose = () => {
        cleanup();
        reject(hostKeyFailure ?? unreachable(host, 'the SSH connection closed during the handshake with'));
      };
      const onReady = () => {
        cleanup();
        resolve(client);
      };
      const cleanup = () => {
        client.off('error', onError).off('close', onClose).off('ready', onReady);
      };
      client.on('error', onError).on('close', onClose).on('ready', onReady);
      try {
        client.connect(config);
      } catch (err) {
        // ssh2 throws synchronously when it cannot parse the key; its message holds no key material.
        cleanup();
        reject(authenticationFailed(host, (err as Error).message));
      }
    });
    logger?.debug({ host: host.name, connection: key, ms: Date.now() - started }, 'ssh connected');
    // Many commands share a connection and each one watches for its loss.
    connected.setMaxListeners(0);
    connected.on('error', (err: Error) => {
      logger?.warn({ host: host.name, connection: key, err: err.message }, 'ssh connection failed');
    });
    connected.once('close', () => {
      logger?.debug({ host: host.name, connection: key }, 'ssh connection closed');
      this.discard(host, connected);
    });
    return connected;
  }

  /** Undefined when the key is acceptable, else the failure to raise. */
  private async verifyHostKey(host: HostSpec, keyBlob: Buffer): Promise<ApplicationFailure | undefined> {
    const seen = sshFingerprint(keyBlob);
    const keyType = sshKeyType(keyBlob);
    const pinned = host.ssh.hostKeyFingerprint;
    if (pinned) return pinned === seen ? undefined : hostKeyMismatch(host, pinned, seen, keyType, 'pinned');
    if (!host.ssh.trustOnFirstUse) {
      return kubehaFailure({
        type: ErrorType.InvalidInput,
        message: `host ${host.name} has no hostKeyFingerprint and trustOnFirstUse is off`,
        retryable: false,
        hint: `pin the key: on ${host.name}, \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`, and put the SHA256:... value in hosts[].ssh.hostKeyFingerprint`,
        details: { host: host.name, seenFingerprint: seen },
      });
    }
    const endpoint = knownHostsEndpoint(host.address, host.ssh.port);
    const known = await this.deps.knownHosts.lookup(endpoint);
    if (known) return known.fingerprint === seen ? undefined : hostKeyMismatch(host, known.fingerprint, seen, keyType, 'known_hosts');
    const kept = await this.deps.knownHosts.remember(endpoint, { fingerprint: seen, keyType, hostName: host.name, firstSeen: new Date().toISOString() });
    if (kept.fingerprint !== seen) return hostKeyMismatch(host, kept.fingerprint, seen, keyType, 'known_hosts');
    this.deps.logger?.info({ host: host.name, endpoint, fingerprint: seen, keyType }, 'trusted host key on first use');
    return undefined;
  }
}
