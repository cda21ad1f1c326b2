/**
 * Trust-on-first-use memory: the host keys kubeha accepted for hosts that had no pinned fingerprint.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dataDir } from '../../lib/paths';

/** One remembered host key. */
export interface KnownHost {
  /** OpenSSH SHA-256 fingerprint. */
  fingerprint: string;
  /** Key algorithm, e.g. `ssh-ed25519`. */
  keyType: string;
  /** The host's name in kubeha's input when it was first seen. */
  hostName: string;
  /** ISO time of the first connection. */
  firstSeen: string;
}

/** Where trust-on-first-use keys are kept. Endpoints are `[address]:port`, like OpenSSH's known_hosts. */
export interface KnownHostsStore {
  lookup(endpoint: string): Promise<KnownHost | undefined>;
  /** Records a key; keeps the existing entry if one appeared meanwhile and returns the entry in force. */
  remember(endpoint: string, entry: KnownHost): Promise<KnownHost>;
}

/** The endpoint key of a host: `[address]:port`. */
export function knownHostsEndpoint(address: string, port: number): string {
  return `[${address}]:${port}`;
}

interface KnownHostsFile {
  version: 1;
  hosts: Record<string, KnownHost>;
}

/** The default file: `<dataDir>/known_hosts.json`. */
export function defaultKnownHostsPath(): string {
  return path.join(dataDir(), 'known_hosts.json');
}

/**
 * A {@link KnownHostsStore} in one JSON file (0600), rewritten atomically. Writes within the
 * process are serialised; the first key recorded for an endpoint wins.
 */
export class FileKnownHostsStore implements KnownHostsStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string = defaultKnownHostsPath()) {}

  async lookup(endpoint: string): Promise<KnownHost | undefined> {
    return (await this.load()).hosts[endpoint];
  }

  remember(endpoint: string, entry: KnownHost): Promise<KnownHost> {
    const next = this.queue.then(async () => {
      const content = await this.load();
      const existing = content.hosts[endpoint];
      if (existing) return existing;
      content.hosts[endpoint] = entry;
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.file);
      return entry;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async load(): Promise<KnownHostsFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, hosts: {} };
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<KnownHostsFile>;
    return { version: 1, hosts: parsed.hosts ?? {} };
  }
}
