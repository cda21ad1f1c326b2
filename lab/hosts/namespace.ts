/**
 * A lab host's mount namespace: a holder process (`unshare --mount --propagation private`) makes
 * the bind mounts, then sleeps to keep the namespace alive; sshd and everything the host's
 * sessions start join or inherit it. Stopping the host kills every process in that namespace
 * (found through /proc/<pid>/ns/mnt), which reaches detached daemons a process tree would miss.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { processRef, type ProcessRef } from '../tools/processes';
import { inCgroup, type HostCgroup } from './hostCgroup';

/** One bind mount: the host's directory over a real path. */
export interface BindMount {
  source: string;
  target: string;
}

function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The holder's script: mount, report, keep the namespace alive. */
function holderScript(binds: BindMount[], readyFile: string): string {
  return [
    'set -e',
    ...binds.map((b) => `mount --bind ${shellWord(b.source)} ${shellWord(b.target)}`),
    `echo ready > ${shellWord(readyFile)}`,
    'exec sleep infinity',
  ].join('\n');
}

/** The namespace id of a process (`mnt:[4026532...]`), or undefined when it is gone. */
export function mountNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/**
 * Starts the holder of a new namespace with `binds` (in the host's `cgroup`, when given); resolves
 * once the mounts are in place.
 */
export async function startNamespace(
  binds: BindMount[],
  readyFile: string,
  logFile: string,
  cgroup?: HostCgroup,
  timeoutMs = 10_000,
): Promise<{ holder: ProcessRef; namespace: string }> {
  rmSync(readyFile, { force: true });
  const log = openSync(logFile, 'a');
  const [program, ...args] = inCgroup(cgroup, ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', holderScript(binds, readyFile)]);
  const child = spawn(program, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const started = Date.now();
  while (!existsSync(readyFile)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `the host's mount namespace could not be set up (exit ${child.exitCode ?? child.signalCode}): ${readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ')}`,
      );
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`the host's mount namespace was not ready within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const holder = processRef(child.pid as number);
  const namespace = mountNamespaceOf(child.pid as number);
  if (!holder || !namespace) throw new Error('the namespace holder ended right after starting');
  return { holder, namespace };
}

/** The live processes in mount namespace `namespace`. */
export function processesInNamespace(namespace: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (mountNamespaceOf(pid) === namespace && processRef(pid)) pids.push(pid);
  }
  return pids;
}

/** Kills every process of the namespace, again until none is left (a dying shell may still fork). */
export async function killNamespace(namespace: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const pids = processesInNamespace(namespace);
    if (pids.length === 0) return;
    if (Date.now() - started > timeoutMs) throw new Error(`processes ${pids.join(', ')} of the host's namespace did not end`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs a program inside the namespace of `holder` (nsenter) and in the host's `cgroup` when given,
 * detached, with output to `logFile`.
 */
export function spawnInNamespace(holder: ProcessRef, argv: string[], logFile: string, cgroup?: HostCgroup): ProcessRef {
  const log = openSync(logFile, 'a');
  const [program, ...args] = inCgroup(cgroup, ['nsenter', `--mount=/proc/${holder.pid}/ns/mnt`, '--', ...argv]);
  const child = spawn(program, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const ref = child.pid !== undefined ? processRef(child.pid) : undefined;
  if (!ref) throw new Error(`${argv[0]} did not start in the host's namespace`);
  return ref;
}

/** Whether `nsenter` and `unshare` (util-linux) are there. */
export function namespaceToolsPresent(): boolean {
  return spawnSync('sh', ['-c', 'command -v unshare && command -v nsenter'], { stdio: 'ignore' }).status === 0;
}
