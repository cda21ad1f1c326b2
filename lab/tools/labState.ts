/**
 * The state the lab's host tools keep: JSON files in the host's lab folder (`$KUBEHA_LAB_DIR`),
 * read and written under a lock, because several SSH sessions may run tools on one host at once.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The host's lab folder: `$KUBEHA_LAB_DIR`, set by the lab host's sshd. */
export function hostLabDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.KUBEHA_LAB_DIR;
  if (!dir) {
    process.stderr.write('lab tool: KUBEHA_LAB_DIR is not set (run this on a lab host, through its sshd)\n');
    process.exit(1);
  }
  return dir;
}

/** Reads `<lab>/<name>.json`, or `fallback` when it does not exist yet. */
export function readState<T>(name: string, fallback: T, dir = hostLabDir()): T {
  try {
    return JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
}

/** Writes `<lab>/<name>.json` atomically (temp file, then rename). */
export function writeState(name: string, value: unknown, dir = hostLabDir()): void {
  const file = path.join(dir, `${name}.json`);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temp, file);
}

const LOCK_STALE_MS = 30_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` holding the host's tool lock (a file created with O_EXCL). A lock older than 30 s is
 * taken over: its holder died without removing it.
 */
export function withStateLock<T>(fn: () => T, dir = hostLabDir()): T {
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'tools.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        // removed by its holder meanwhile
      }
      sleepSync(Math.min(5 + attempt, 50));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Reads, changes and writes one state file under the lock. */
export function updateState<T>(name: string, fallback: T, change: (state: T) => T | void): T {
  const dir = hostLabDir();
  return withStateLock(() => {
    const state = readState(name, fallback, dir);
    const next = change(state) ?? state;
    writeState(name, next, dir);
    return next;
  }, dir);
}

/** Settings of the whole lab from `$KUBEHA_LAB_STATE` (state.json): `settings.<key>`, else `<key>`. */
export function labSetting(key: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const file = env.KUBEHA_LAB_STATE;
  if (!file) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const settings = state.settings as Record<string, unknown> | undefined;
    return settings?.[key] ?? state[key];
  } catch {
    return undefined;
  }
}

/** Prints to stderr and exits with `code`, the way the real tools report errors. */
export function die(message: string, code: number): never {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(code);
}
