/**
 * A lab host's cgroup (cgroup v2): every process of the host runs in it, so netfilter can tell the
 * host's connections from the machine's (iptables `-m cgroup --path`, see hostFirewall.ts). Lab
 * hosts share one network namespace and the loopback interface, where every connection leaves from
 * 127.0.0.1 whoever makes it; the cgroup is what says which host made it.
 *
 * The tree is `<cgroup2 mount>/kubeha-lab/<lab label>/<host>`. No controller is enabled in it: it
 * only groups processes, and limits nothing.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The folder under the cgroup v2 root that holds every lab's host cgroups. */
export const LAB_CGROUP_ROOT = 'kubeha-lab';

/** Where the cgroup v2 hierarchy is mounted, and which cgroup the mount shows at its top. */
interface Cgroup2Mount {
  mountPoint: string;
  /** The mount's root within the hierarchy (`/` unless a sub-tree is mounted). */
  root: string;
}

/** The cgroup v2 mount (`/sys/fs/cgroup` on a pure v2 machine, `/sys/fs/cgroup/unified` on a hybrid one). */
function cgroup2Mount(): Cgroup2Mount | undefined {
  let mountInfo: string;
  try {
    mountInfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of mountInfo.split('\n')) {
    // id parent major:minor root mountpoint options [optional fields] - fstype source super-options
    const [before, after] = line.split(' - ');
    if (!after?.startsWith('cgroup2 ')) continue;
    const fields = before.split(' ');
    return { root: unescapeMountPath(fields[3]), mountPoint: unescapeMountPath(fields[4]) };
  }
  return undefined;
}

/** mountinfo writes spaces, tabs, newlines and backslashes in octal (`\040`). */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** A host's cgroup: its folder, and its path as netfilter's cgroup match names it. */
export interface HostCgroup {
  /** The cgroup's folder under the cgroup v2 mount. */
  dir: string;
  /** Its path from the root of the cgroup v2 hierarchy, without the leading slash (`--path`). */
  matchPath: string;
  /** Writing a pid here moves that process into the cgroup. */
  procsFile: string;
}

/** The cgroup of host `host` in the lab labelled `label`, or undefined when the machine has no cgroup v2. */
export function hostCgroup(label: string, host: string): HostCgroup | undefined {
  const mount = cgroup2Mount();
  if (!mount) return undefined;
  const dir = path.join(mount.mountPoint, LAB_CGROUP_ROOT, label, host);
  const matchPath = path.posix.join(mount.root, LAB_CGROUP_ROOT, label, host).replace(/^\/+/, '');
  return { dir, matchPath, procsFile: path.join(dir, 'cgroup.procs') };
}

/** Creates the host's cgroup (kept when it is there). */
export function createHostCgroup(cgroup: HostCgroup): void {
  mkdirSync(cgroup.dir, { recursive: true });
}

/** The pids in the host's cgroup (none when it is gone). */
export function cgroupProcesses(cgroup: HostCgroup): number[] {
  try {
    return readFileSync(cgroup.procsFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Whether a cgroup still counts a process (a killed one not yet reaped counts until it is). */
function populated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(path.join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** Removes an empty cgroup folder, waiting for killed processes to be reaped; false when it stays. */
async function removeCgroupDir(dir: string, timeoutMs: number): Promise<boolean> {
  if (!existsSync(dir)) return true;
  // A cgroup folder lists only the kernel's files; any sub-folder is another cgroup in use.
  if (readdirSync(dir, { withFileTypes: true }).some((entry) => entry.isDirectory())) return false;
  const started = Date.now();
  for (;;) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY' || Date.now() - started > timeoutMs) return false;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Removes the host's cgroup once its processes are gone (and reaped), then the lab's and the lab
 * root's folders when no other host or lab uses them. A cgroup still holding a process stays.
 */
export async function removeHostCgroup(cgroup: HostCgroup, timeoutMs = 5000): Promise<void> {
  if (!(await removeCgroupDir(cgroup.dir, timeoutMs))) return;
  for (let dir = path.dirname(cgroup.dir), depth = 0; depth < 2; dir = path.dirname(dir), depth++) {
    if (!(await removeCgroupDir(dir, 0))) return;
  }
}

/**
 * Removes every empty host cgroup of the lab labelled `label`, and the lab's folder when it is
 * empty then (hosts whose records were lost in a crash). Returns the folders that stay.
 */
export async function removeLabCgroups(label: string): Promise<string[]> {
  const any = hostCgroup(label, '_');
  if (!any) return [];
  const labDir = path.dirname(any.dir);
  if (!existsSync(labDir)) return [];
  const hosts = readdirSync(labDir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  const left: string[] = [];
  for (const entry of hosts) {
    const dir = path.join(labDir, entry.name);
    if (populated(dir) || !(await removeCgroupDir(dir, 5000))) left.push(dir);
  }
  if (left.length === 0 && (await removeCgroupDir(labDir, 0))) await removeCgroupDir(path.dirname(labDir), 0);
  return left;
}

/**
 * `argv` wrapped so that the process joins the cgroup before it runs: a shell writes its own pid to
 * `cgroup.procs`, then becomes `argv`. Everything the program starts later inherits the cgroup.
 */
export function inCgroup(cgroup: HostCgroup | undefined, argv: string[]): string[] {
  if (!cgroup) return argv;
  return ['sh', '-c', 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, ...argv];
}

/** Kills whatever still runs in the host's cgroup (cgroup.kill) and waits until it is empty. */
export async function killCgroup(cgroup: HostCgroup, timeoutMs = 5000): Promise<void> {
  const killFile = path.join(cgroup.dir, 'cgroup.kill');
  const started = Date.now();
  for (let left = cgroupProcesses(cgroup); left.length > 0; left = cgroupProcesses(cgroup)) {
    if (Date.now() - started > timeoutMs) throw new Error(`processes ${left.join(', ')} of cgroup ${cgroup.matchPath} did not end`);
    // cgroup.kill (Linux 5.14) also reaches a process forking right now; older kernels get one signal each.
    if (existsSync(killFile)) writeFileSync(killFile, '1\n');
    else {
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
