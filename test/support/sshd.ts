/**
 * A real OpenSSH server for tests and the lab: `/usr/sbin/sshd -D -e` on a loopback address and a
 * free port, with host and client keys generated on the spot by `ssh-keygen`. Runs as root
 * (sshd needs it to switch users). `stop()` ends sshd and every process it started.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HostSpec } from '../../common/inputs/shared';
import { freePort } from '../../lib/freePort';

const run = promisify(execFile);

/** The sshd binary (Debian's openssh-server). */
export const SSHD_PATH = '/usr/sbin/sshd';

/** A key pair made by ssh-keygen. */
export interface GeneratedKey {
  privateKeyPath: string;
  /** The `.pub` line: `ssh-ed25519 AAAA... comment`. */
  publicKey: string;
  /** As `ssh-keygen -lf` prints it: `SHA256:...`. */
  fingerprint: string;
}

/** Generates an unencrypted ed25519 key pair at `file` and `file.pub`. */
export async function generateKey(file: string, comment = 'kubeha-test'): Promise<GeneratedKey> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  const publicKey = (await readFile(`${file}.pub`, 'utf8')).trim();
  return { privateKeyPath: file, publicKey, fingerprint: await fingerprintOf(`${file}.pub`) };
}

/** The SHA-256 fingerprint of a public key file, from `ssh-keygen -lf`. */
export async function fingerprintOf(publicKeyFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-lf', publicKeyFile]);
  const match = /\b(SHA256:[A-Za-z0-9+/]+)/.exec(stdout);
  if (!match) throw new Error(`ssh-keygen -lf printed no SHA256 fingerprint: ${stdout}`);
  return match[1];
}

/** One line of a user's authorized_keys. */
export interface AuthorizedKey {
  user: string;
  /** Key options, e.g. `command="/path/script",no-pty` or `environment="A=b"` (needs PermitUserEnvironment). */
  options?: string;
  /** Defaults to the server's generated client key. */
  publicKey?: string;
}

/** How to start a {@link TestSshd}. */
export interface SshdOptions {
  /** Loopback address to listen on. Default 127.0.0.1. */
  address?: string;
  /** Default: a free port. Give the port of a stopped server to take its place. */
  port?: number;
  /** Reuse an existing host key (same identity across restarts). Default: a new ed25519 key. */
  hostKeyPath?: string;
  /** Reuse a client key (kept outside the server's directory). Default: a new ed25519 key. */
  clientKey?: GeneratedKey;
  /** Authorized keys. Default: the client key for root. */
  authorizedKeys?: AuthorizedKey[];
  /** More sshd_config lines (e.g. `PermitUserEnvironment yes`, `MaxSessions 20`). */
  extraConfig?: string[];
}

/** A running sshd. */
export interface TestSshd {
  address: string;
  port: number;
  /** The listener's process id. */
  pid: number;
  /** The server's host key fingerprint, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  hostKeyPath: string;
  /** The generated client key that authorized_keys accepts. */
  clientKey: GeneratedKey;
  /** The server's private directory (config, keys, authorized_keys). */
  dir: string;
  /** Adds a line to a user's authorized_keys; sshd reads it at each login, no restart needed. */
  authorize(key: AuthorizedKey): Promise<void>;
  /** What sshd logged so far (LogLevel VERBOSE). */
  log(): string;
  /** Stops sshd and every process it started, then removes its directory (keys given in the options stay). */
  stop(): Promise<void>;
}

/** Process ids whose parent chain leads to `root` (from /proc), deepest last. */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

function authorizedLine(key: AuthorizedKey, clientKey: GeneratedKey): string {
  const publicKey = key.publicKey ?? clientKey.publicKey;
  return key.options ? `${key.options} ${publicKey}` : publicKey;
}

async function waitListening(child: ChildProcess, logOf: () => string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!/Server listening on/.test(logOf())) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd exited (${child.exitCode ?? child.signalCode}):\n${logOf()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`sshd did not start listening within ${timeoutMs} ms:\n${logOf()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts sshd. Always `stop()` it (in `after`). */
export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  if (process.getuid?.() !== 0) throw new Error('startSshd needs root: sshd must switch to the login user');
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? (await freePort(address));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-sshd-'));
  // sshd reads authorized_keys as the login user: the directory must be traversable by all.
  await chmod(dir, 0o755);
  await mkdir('/run/sshd', { recursive: true });
  const hostKeyPath = options.hostKeyPath ?? path.join(dir, 'ssh_host_ed25519_key');
  const hostKeyFingerprint = options.hostKeyPath ? await fingerprintOf(`${hostKeyPath}.pub`) : (await generateKey(hostKeyPath, 'kubeha-test-host')).fingerprint;
  const clientKey = options.clientKey ?? (await generateKey(path.join(dir, 'client_ed25519'), 'kubeha-test-client'));
  const keysDir = path.join(dir, 'authorized_keys');
  await mkdir(keysDir, { mode: 0o755 });
  await chmod(keysDir, 0o755);

  const authorize = async (key: AuthorizedKey) => {
    const file = path.join(keysDir, key.user);
    const existing = await readFile(file, 'utf8').catch(() => '');
    await writeFile(file, `${existing}${authorizedLine(key, clientKey)}\n`, { mode: 0o644 });
  };
  for (const key of options.authorizedKeys ?? [{ user: 'root' }]) await authorize(key);

  const configPath = path.join(dir, 'sshd_config');
  const config = [
    `ListenAddress ${address}:${port}`,
    `HostKey ${hostKeyPath}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${keysDir}/%u`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    ...(options.extraConfig ?? []),
  ];
  await writeFile(configPath, `${config.join('\n')}\n`, { mode: 0o600 });

  let log = '';
  const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (log += text));
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      // Sessions outlive the listener, and commands run in their own sessions: end the whole tree.
      const tree = [child.pid, ...descendantsOf(child.pid)];
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      for (const pid of tree.reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(child, () => log, 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, port, pid: child.pid as number, hostKeyFingerprint, hostKeyPath, clientKey, dir, authorize, log: () => log, stop };
}

/** A {@link HostSpec} that reaches a test sshd with its client key and pinned host key. */
export function hostFor(sshd: TestSshd, overrides: { name?: string; user?: string; ssh?: Partial<HostSpec['ssh']> } = {}): HostSpec {
  return {
    name: overrides.name ?? 'test-host',
    address: sshd.address,
    role: 'control-plane',
    ssh: {
      user: overrides.user ?? 'root',
      port: sshd.port,
      privateKey: { file: sshd.clientKey.privateKeyPath },
      hostKeyFingerprint: sshd.hostKeyFingerprint,
      trustOnFirstUse: false,
      connectTimeoutSeconds: 5,
      ...overrides.ssh,
    },
  };
}
