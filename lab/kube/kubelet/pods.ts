/**
 * The lab kubelet's static Pods: each manifest in /etc/kubernetes/manifests runs as one process
 * (its container's command, the binary chosen by the image name: etcd, kube-apiserver, ...).
 * A process that dies is restarted with a doubling back-off (CrashLoopBackOff), a changed
 * manifest restarts its process, a removed manifest stops it. Processes outlive the kubelet (as
 * containers do) and are adopted again when it starts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { etcdBinary, type HostEnv, KUBE, kubeBinDir } from '../env';
import { alive, commandLine, podRecords, podsDir, type PodRecord, removePodRecord, stopProcess, writePodRecord } from '../processes';

/** A static Pod wanted by a manifest. */
export interface DesiredPod {
  name: string;
  hash: string;
  argv: string[];
  manifest: Record<string, unknown>;
}

/** The binary of a container: its image's repository name decides (registry.k8s.io/etcd:3.6 → etcd). */
export function binaryFor(image: string, command0: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const repo =
    image
      .replace(/[:@].*$/, '')
      .split('/')
      .pop() ?? '';
  const name = repo || path.basename(command0 ?? '');
  if (name === 'etcd') return etcdBinary(env);
  const candidate = path.join(kubeBinDir(env), name);
  return existsSync(candidate) ? candidate : undefined;
}

/** Reads the manifests folder into the wanted Pods (unreadable or unknown images are logged and skipped). */
export function desiredPods(host: HostEnv, log: (line: string) => void): DesiredPod[] {
  if (!existsSync(KUBE.manifests)) return [];
  const out: DesiredPod[] = [];
  for (const file of readdirSync(KUBE.manifests)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()) {
    let text: string;
    let manifest: { metadata?: { name?: string }; spec?: { containers?: { image?: string; command?: string[]; args?: string[] }[] } };
    try {
      text = readFileSync(path.join(KUBE.manifests, file), 'utf8');
      manifest = parse(text);
    } catch (err) {
      log(`static pod manifest ${file} is unreadable: ${(err as Error).message}`);
      continue;
    }
    const container = manifest?.spec?.containers?.[0];
    const name = manifest?.metadata?.name;
    if (!name || !container?.image) continue;
    const binary = binaryFor(container.image, container.command?.[0], host.env);
    if (!binary) {
      log(`pod ${name}: no binary for image ${container.image} (ErrImagePull)`);
      continue;
    }
    const words = [...(container.command ?? []), ...(container.args ?? [])];
    out.push({ name, hash: createHash('sha256').update(text).digest('hex'), argv: [binary, ...words.slice(1)], manifest: manifest as Record<string, unknown> });
  }
  return out;
}

interface Running {
  record: PodRecord;
  child?: ChildProcess;
  exited: boolean;
  /** When a restart may happen (back-off). */
  notBefore: number;
  backoffMs: number;
}

const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/** A process that ran this long is healthy again: its back-off starts over. */
const BACKOFF_RESET_MS = 60_000;

/** Runs and watches the host's static Pods. */
export class PodSupervisor {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly host: HostEnv,
    private readonly log: (line: string) => void,
  ) {}

  /** Picks up processes a previous kubelet left running. */
  adopt(): void {
    for (const record of podRecords(this.host)) {
      const argv = commandLine(record.pid);
      if (alive(record.pid) && argv.join(' ') === record.argv.join(' ')) {
        this.running.set(record.pod, { record, exited: false, notBefore: 0, backoffMs: BACKOFF_START_MS });
        this.log(`pod ${record.pod}: adopted running process ${record.pid}`);
      } else {
        removePodRecord(this.host, record.pod);
      }
    }
  }

  /** The pods running now, by name. */
  status(): { name: string; pid: number; restarts: number; startedAt: string; running: boolean }[] {
    return [...this.running.values()].map((r) => ({
      name: r.record.pod,
      pid: r.record.pid,
      restarts: r.record.restarts,
      startedAt: r.record.startedAt,
      running: this.isRunning(r),
    }));
  }

  private isRunning(r: Running): boolean {
    return r.child ? !r.exited : alive(r.record.pid);
  }

  private start(pod: DesiredPod, restarts: number, backoffMs: number): void {
    mkdirSync(podsDir(this.host), { recursive: true });
    const logFd = openSync(path.join(podsDir(this.host), `${pod.name}.log`), 'a');
    const child = spawn(pod.argv[0], pod.argv.slice(1), { detached: true, stdio: ['ignore', logFd, logFd], env: this.host.env });
    closeSync(logFd);
    const record: PodRecord = { pod: pod.name, pid: child.pid ?? -1, hash: pod.hash, startedAt: new Date().toISOString(), restarts, argv: pod.argv };
    const entry: Running = { record, child, exited: false, notBefore: 0, backoffMs };
    child.on('exit', (code, signal) => {
      entry.exited = true;
      this.log(`pod ${pod.name}: process ${record.pid} exited (${signal ?? `code ${code}`})`);
    });
    child.on('error', (err) => {
      entry.exited = true;
      this.log(`pod ${pod.name}: cannot start ${pod.argv[0]}: ${err.message}`);
    });
    child.unref();
    this.running.set(pod.name, entry);
    writePodRecord(this.host, record);
    this.log(`pod ${pod.name}: started process ${record.pid}${restarts ? ` (restart ${restarts})` : ''}`);
  }

  private async stop(name: string): Promise<void> {
    const entry = this.running.get(name);
    if (!entry) return;
    this.running.delete(name);
    await stopProcess(entry.record.pid);
    removePodRecord(this.host, name);
    this.log(`pod ${name}: stopped`);
  }

  /** One pass: start what is wanted, restart what died or changed, stop what is no longer wanted. */
  async sync(): Promise<void> {
    const desired = desiredPods(this.host, this.log);
    const wanted = new Set(desired.map((p) => p.name));
    for (const name of [...this.running.keys()]) if (!wanted.has(name)) await this.stop(name);
    const now = Date.now();
    for (const pod of desired) {
      const entry = this.running.get(pod.name);
      if (!entry) {
        this.start(pod, 0, BACKOFF_START_MS);
        continue;
      }
      if (entry.record.hash !== pod.hash) {
        this.log(`pod ${pod.name}: manifest changed`);
        await this.stop(pod.name);
        this.start(pod, 0, BACKOFF_START_MS);
        continue;
      }
      if (this.isRunning(entry)) continue;
      if (entry.notBefore === 0) {
        const ranFor = now - Date.parse(entry.record.startedAt);
        const backoff = ranFor > BACKOFF_RESET_MS ? BACKOFF_START_MS : entry.backoffMs;
        entry.notBefore = now + backoff;
        entry.backoffMs = Math.min(backoff * 2, BACKOFF_MAX_MS);
        this.log(`pod ${pod.name}: back-off ${backoff} ms restarting failed container (CrashLoopBackOff)`);
      }
      if (now >= entry.notBefore) this.start(pod, entry.record.restarts + 1, entry.backoffMs);
    }
  }
}
