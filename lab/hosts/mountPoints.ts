/**
 * The real directories lab hosts bind over (/etc/kubernetes, ...) must exist on the machine. Those
 * the lab creates are recorded machine-wide (/run/kubeha-lab/mountpoints.json) with the hosts using
 * them, and removed when the last one stops: removing a directory that is a mount point in another
 * host's namespace would silently detach that host's bind mount (Linux >= 3.18), so no host may
 * remove one while another runs, whichever process started it.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { isAlive, processRef, type ProcessRef } from '../tools/processes';

const REGISTRY_DIR = '/run/kubeha-lab';
const REGISTRY = path.join(REGISTRY_DIR, 'mountpoints.json');
const LOCK = path.join(REGISTRY_DIR, 'mountpoints.lock');

interface Registry {
  /** Directories the lab created, parents before children. */
  created: string[];
  /** Hosts using them: a host id and the process keeping it alive. */
  users: { id: string; owner: ProcessRef }[];
}

function withLock<T>(fn: () => T): T {
  mkdirSync(REGISTRY_DIR, { recursive: true });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      closeSync(openSync(LOCK, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 30_000) rmSync(LOCK, { force: true });
      } catch {
        // released meanwhile
      }
      Atomics.wait(pause, 0, 0, 10);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

function read(): Registry {
  try {
    const registry = JSON.parse(readFileSync(REGISTRY, 'utf8')) as Registry;
    return { created: registry.created ?? [], users: (registry.users ?? []).filter((u) => isAlive(u.owner)) };
  } catch {
    return { created: [], users: [] };
  }
}

function write(registry: Registry): void {
  writeFileSync(`${REGISTRY}.tmp`, `${JSON.stringify(registry, null, 2)}\n`);
  renameSync(`${REGISTRY}.tmp`, REGISTRY);
}

/** Creates each missing directory of `paths` (recording the ones created) and registers host `id`, owned for now by this process. */
export function acquireMountPoints(id: string, paths: readonly string[]): void {
  withLock(() => {
    const registry = read();
    for (const target of paths) {
      const missing: string[] = [];
      for (let dir = target; !existsSync(dir); dir = path.dirname(dir)) missing.unshift(dir);
      for (const dir of missing) {
        mkdirSync(dir);
        if (!registry.created.includes(dir)) registry.created.push(dir);
      }
    }
    const self = processRef(process.pid) as ProcessRef;
    registry.users = [...registry.users.filter((u) => u.id !== id), { id, owner: self }];
    write(registry);
  });
}

/** Hands host `id`'s registration to the process that keeps the host alive (its namespace holder). */
export function setMountPointOwner(id: string, owner: ProcessRef): void {
  withLock(() => {
    const registry = read();
    registry.users = [...registry.users.filter((u) => u.id !== id), { id, owner }];
    write(registry);
  });
}

/** Unregisters host `id`; when no running host is left, removes the directories the lab created (if empty). */
export function releaseMountPoints(id: string): string[] {
  return withLock(() => {
    const registry = read();
    registry.users = registry.users.filter((u) => u.id !== id);
    const removed: string[] = [];
    if (registry.users.length === 0) {
      for (const dir of [...registry.created].reverse()) {
        try {
          rmdirSync(dir);
          removed.push(dir);
        } catch (err) {
          // Something else put files there: it is not only ours any more, leave it.
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') removed.push(dir);
        }
      }
      registry.created = registry.created.filter((dir) => !removed.includes(dir));
    }
    write(registry);
    return removed;
  });
}
