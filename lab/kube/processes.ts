/**
 * The lab's processes on a host and where it records them in the host's lab folder: the kubelet
 * (`kubelet.pid`, `kubelet.log`) and each static Pod's process (`pods/<pod>.json`, `pods/<pod>.log`).
 * kubeadm starts and stops the kubelet through the lab's systemctl when it is installed beside the
 * lab kubeadm, else runs it directly, as a detached process of the host's mount namespace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostEnv } from './env';

/** What the kubelet records about a running static Pod. */
export interface PodRecord {
  pod: string;
  pid: number;
  /** SHA-256 of the manifest the process was started from. */
  hash: string;
  startedAt: string;
  restarts: number;
  /** The full argv (binary first), to recognise the process after a kubelet restart. */
  argv: string[];
}

export function podsDir(host: HostEnv): string {
  return path.join(host.labDir, 'pods');
}

export function kubeletPidFile(host: HostEnv): string {
  return path.join(host.labDir, 'kubelet.pid');
}

/** Whether a process exists (and is not a zombie). */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A process's argv from /proc. */
export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((w) => w !== '');
  } catch {
    return [];
  }
}

/** Every pod record on the host. */
export function podRecords(host: HostEnv): PodRecord[] {
  const dir = podsDir(host);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as PodRecord];
      } catch {
        return [];
      }
    });
}

export function writePodRecord(host: HostEnv, record: PodRecord): void {
  mkdirSync(podsDir(host), { recursive: true });
  writeFileSync(path.join(podsDir(host), `${record.pod}.json`), JSON.stringify(record));
}

export function removePodRecord(host: HostEnv, pod: string): void {
  rmSync(path.join(podsDir(host), `${pod}.json`), { force: true });
}

/** Stops a process group: SIGTERM, then SIGKILL after the grace period. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // gone already
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    signal('SIGKILL');
    while (alive(pid)) await sleep(50);
  }
}

/** Stops every static Pod process recorded on the host (what `kubeadm reset` does to the containers). */
export async function stopAllPods(host: HostEnv, except: string[] = []): Promise<string[]> {
  const records = podRecords(host).filter((r) => !except.includes(r.pod));
  await Promise.all(
    records.map(async (r) => {
      const argv = commandLine(r.pid);
      if (argv.length > 0 && argv[0] === r.argv[0]) await stopProcess(r.pid);
      removePodRecord(host, r.pod);
    }),
  );
  return records.map((r) => r.pod);
}

/**
 * The lab's systemctl, when installed beside the lab's kubeadm launcher. KUBEHA_LAB_KUBELET=direct
 * makes kubeadm run the kubelet itself (tests of kubeadm alone, on hosts without the kubelet package).
 */
function labSystemctl(host: HostEnv): string | undefined {
  if (host.env.KUBEHA_LAB_KUBELET === 'direct') return undefined;
  const bin = host.env.KUBEHA_LAB_TOOLS_BIN;
  const candidate = bin ? path.join(bin, 'systemctl') : undefined;
  return candidate && existsSync(candidate) ? candidate : undefined;
}

/** The running kubelet's pid (started directly by kubeadm), if any. */
export function kubeletPid(host: HostEnv): number | undefined {
  try {
    const pid = Number(readFileSync(kubeletPidFile(host), 'utf8').trim());
    return alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** `systemctl restart kubelet`: through the lab's systemctl, else directly (stopping a running one first). */
export async function restartKubelet(host: HostEnv): Promise<void> {
  const systemctl = labSystemctl(host);
  if (systemctl) {
    const result = spawnSync(systemctl, ['restart', 'kubelet'], { encoding: 'utf8', env: host.env });
    if (result.status !== 0) throw new Error(`failed to restart the kubelet: ${result.stderr || result.stdout}`.trim());
    return;
  }
  const running = kubeletPid(host);
  if (running) await stopProcess(running);
  mkdirSync(host.labDir, { recursive: true });
  const log = openSync(path.join(host.labDir, 'kubelet.log'), 'a');
  // The compiled kubelet beside this file, run by this very node: no PATH or launcher needed.
  const child = spawn(process.execPath, [path.join(__dirname, 'kubelet', 'main.js')], { detached: true, stdio: ['ignore', log, log], env: host.env });
  closeSync(log);
  writeFileSync(kubeletPidFile(host), String(child.pid));
  child.unref();
}

/** `systemctl stop kubelet`. */
export async function stopKubelet(host: HostEnv): Promise<void> {
  const systemctl = labSystemctl(host);
  if (systemctl) {
    spawnSync(systemctl, ['stop', 'kubelet'], { encoding: 'utf8', env: host.env });
  }
  const running = kubeletPid(host);
  if (running) await stopProcess(running);
  rmSync(kubeletPidFile(host), { force: true });
}
