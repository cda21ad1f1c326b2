/**
 * A lab host for tests without sshd: a process holding a private mount namespace
 * (`unshare --mount --propagation private`) in which temp directories are bind-mounted over
 * /etc/kubernetes, /var/lib/etcd and /var/lib/kubelet. Commands run inside it with
 * `nsenter --mount`, with the environment a lab host's sshd gives (KUBEHA_LAB_HOST, KUBEHA_LAB_DIR,
 * KUBEHA_LAB_STATE, lab tools first on PATH). `stop()` ends the kubelet, every static Pod process
 * and the namespace, and removes the directories.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireMountPoints, releaseMountPoints, setMountPointOwner } from '../../../../lab/hosts/mountPoints';
import { processRef } from '../../../../lab/tools/processes';

/** The machine directories a namespace host binds over, and the folder of its root each is bound to. */
const HOST_BINDS: readonly (readonly [inside: string, folder: string])[] = [
  ['/etc/kubernetes', 'etc-kubernetes'],
  ['/var/lib/etcd', 'var-lib-etcd'],
  ['/var/lib/kubelet', 'var-lib-kubelet'],
  ['/etc/cni/net.d', 'etc-cni-net.d'],
];

const REPO = path.resolve(__dirname, '..', '..', '..', '..', '..', '..');
/** The repository (tests run from the compiled tree in .out/<name>/test/...). */
export const REPO_ROOT = existsSync(path.join(REPO, 'package.json')) ? REPO : process.cwd();
/** The compiled lab code this test run uses (the launchers find it through KUBEHA_LAB_JS_DIR). */
export const LAB_JS_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'lab', 'tools');
const TOOLS_BIN = path.join(REPO_ROOT, 'lab', 'tools', 'bin');
const KUBE_BIN = path.join(REPO_ROOT, 'lab', 'kube', 'bin');

/** A command's result. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Lab settings written into the test's state.json. */
export interface LabSettings {
  uploadedCertsTtlSeconds?: number;
  discoveryTimeoutSeconds?: number;
  nodeHeartbeatSeconds?: number;
  etcdApiCallTimeoutSeconds?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killAndWait(pid: number): Promise<void> {
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    if (!alive(pid)) return;
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        return;
      }
    }
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  }
}

/** One host: its name, address, directories and namespace. */
export class NamespaceHost {
  private constructor(
    readonly name: string,
    readonly address: string,
    readonly root: string,
    readonly statePath: string,
    private readonly holder: ChildProcess,
  ) {}

  /** The host's lab folder (pids, logs). */
  get labDir(): string {
    return path.join(this.root, 'lab');
  }

  /** A file of the host as seen inside its namespace (for example /etc/kubernetes/admin.conf). */
  hostPath(inside: string): string {
    for (const [prefix, dir] of HOST_BINDS)
      if (inside === prefix || inside.startsWith(`${prefix}/`)) return path.join(this.root, dir, inside.slice(prefix.length));
    throw new Error(`${inside} is not a host directory`);
  }

  /** Starts the namespace; `statePath` is shared by the hosts of one lab. */
  static async start(options: { name: string; address: string; statePath: string; parent: string }): Promise<NamespaceHost> {
    const root = mkdtempSync(path.join(options.parent, `${options.name}-`));
    for (const d of [...HOST_BINDS.map(([, folder]) => folder), 'lab']) mkdirSync(path.join(root, d), { recursive: true });
    // The mount points must exist on the machine: the ones missing are created and recorded machine-wide
    // as lab hosts do (lab/hosts/mountPoints.ts), and removed when the last host using them stops.
    acquireMountPoints(
      root,
      HOST_BINDS.map(([inside]) => inside),
    );
    const script = ['set -e', ...HOST_BINDS.map(([inside, folder]) => `mount --bind ${root}/${folder} ${inside}`), 'echo ready', 'exec sleep infinity'].join(
      '\n',
    );
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const owner = holder.pid === undefined ? undefined : processRef(holder.pid);
    if (owner) setMountPointOwner(root, owner);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      holder.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`unshare exited ${code}: ${err}`)));
    });
    return new NamespaceHost(options.name, options.address, root, options.statePath, holder);
  }

  /** The environment sshd's SetEnv gives a lab host's commands. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATH: `${TOOLS_BIN}:${KUBE_BIN}:${process.env.PATH}`,
      KUBEHA_LAB_HOST: this.name,
      KUBEHA_LAB_DIR: this.labDir,
      KUBEHA_LAB_STATE: this.statePath,
      KUBEHA_LAB_JS_DIR: LAB_JS_DIR,
      // These hosts have no kubelet package (no lab systemd unit): kubeadm runs the kubelet itself.
      KUBEHA_LAB_KUBELET: 'direct',
      ...extra,
    };
  }

  /** Runs a command inside the host's namespace. */
  run(argv: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; stdin?: string } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn('nsenter', ['--mount', `--target=${this.holder.pid}`, '--', ...argv], {
        env: this.env(options.env),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(options.stdin ?? '');
    });
  }

  /** `kubeadm ...` inside the host. */
  kubeadm(args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    return this.run([path.join(TOOLS_BIN, 'kubeadm'), ...args], options);
  }

  /** The host's lab state as after kubeha's prepareHost: forwarding on (the lab's sysctl), containerd active (its systemctl). */
  prepare(): void {
    mkdirSync(this.labDir, { recursive: true });
    writeFileSync(path.join(this.labDir, 'sysctl.json'), JSON.stringify({ values: { 'net.ipv4.ip_forward': '1' } }));
    writeFileSync(
      path.join(this.labDir, 'units.json'),
      JSON.stringify({ units: { containerd: { enabled: true, active: true, since: new Date().toISOString() } } }),
    );
  }

  /** Writes a file inside the host's /etc/kubernetes (through its directory on disk). */
  writeFile(inside: string, content: string): void {
    const file = this.hostPath(inside);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: 0o600 });
  }

  /** Reads a file of the host, undefined when missing. */
  readFile(inside: string): string | undefined {
    const file = this.hostPath(inside);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  }

  /** Pids of the kubelet and static Pods recorded in the host's lab folder. */
  recordedPids(): number[] {
    const pids: number[] = [];
    const kubelet = path.join(this.labDir, 'kubelet.pid');
    if (existsSync(kubelet)) pids.push(Number(readFileSync(kubelet, 'utf8').trim()));
    const pods = path.join(this.labDir, 'pods');
    if (existsSync(pods)) {
      for (const f of readdirSync(pods).filter((n) => n.endsWith('.json'))) {
        try {
          pids.push((JSON.parse(readFileSync(path.join(pods, f), 'utf8')) as { pid: number }).pid);
        } catch {
          // a record being rewritten: the next stop() finds it
        }
      }
    }
    return pids.filter((p) => Number.isInteger(p) && p > 0);
  }

  /** Kills the kubelet and the static Pods (a host lost without `kubeadm reset`). */
  async killProcesses(): Promise<void> {
    const kubeletFile = path.join(this.labDir, 'kubelet.pid');
    if (existsSync(kubeletFile)) await killAndWait(Number(readFileSync(kubeletFile, 'utf8').trim()));
    for (const pid of this.recordedPids()) await killAndWait(pid);
    rmSync(path.join(this.labDir, 'pods'), { recursive: true, force: true });
    rmSync(kubeletFile, { force: true });
  }

  /** Empties the host's Kubernetes directories (a reinstalled machine). */
  wipe(): void {
    for (const dir of ['etc-kubernetes', 'var-lib-etcd', 'var-lib-kubelet']) {
      const full = path.join(this.root, dir);
      for (const entry of readdirSync(full)) rmSync(path.join(full, entry), { recursive: true, force: true });
    }
  }

  /** Stops the kubelet first (so nothing restarts), then the static Pods, then the namespace. */
  async stop(): Promise<void> {
    const kubeletFile = path.join(this.labDir, 'kubelet.pid');
    if (existsSync(kubeletFile)) await killAndWait(Number(readFileSync(kubeletFile, 'utf8').trim()));
    for (const pid of this.recordedPids()) await killAndWait(pid);
    if (this.holder.pid) await killAndWait(this.holder.pid);
    releaseMountPoints(this.root);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A lab of namespace hosts sharing one state.json. */
export class TestLab {
  readonly hosts: NamespaceHost[] = [];
  private constructor(
    readonly dir: string,
    readonly statePath: string,
    private settings: LabSettings,
  ) {}

  static create(settings: LabSettings = {}): TestLab {
    // etcd fsyncs every write: tmpfs keeps the tests fast when the machine has one.
    const dir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'kubeha-labkube-'));
    const lab = new TestLab(dir, path.join(dir, 'state.json'), settings);
    lab.writeSettings({});
    return lab;
  }

  /** Changes lab settings (hosts read state.json on every command). */
  writeSettings(changes: LabSettings): void {
    this.settings = { ...this.settings, ...changes };
    const hosts = this.hosts.map((h) => ({ name: h.name, address: h.address }));
    writeFileSync(this.statePath, JSON.stringify({ settings: this.settings, hosts }, null, 2));
  }

  /**
   * A host; `prepared` (the default) gives it what kubeha's prepareHost leaves and kubeadm's
   * preflight wants: IPv4 forwarding on and containerd running. These hosts cannot run the prepare
   * script (their /etc is the machine's); test/lab/hosts/prepareHost.test.ts checks that it does this.
   */
  async addHost(name: string, address: string, options: { prepared?: boolean } = {}): Promise<NamespaceHost> {
    const host = await NamespaceHost.start({ name, address, statePath: this.statePath, parent: this.dir });
    this.hosts.push(host);
    this.writeSettings({});
    if (options.prepared ?? true) host.prepare();
    return host;
  }

  async stop(): Promise<void> {
    for (const host of this.hosts.reverse()) await host.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
