/** Process identity from /proc: a pid plus its start time, so a reused pid is never mistaken for ours. */
import { readFileSync } from 'node:fs';

/** A process we started. */
export interface ProcessRef {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  startTime: number;
}

/** The start time of a live (not zombie) process, or undefined when it is gone. */
export function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** The reference of a running process. */
export function processRef(pid: number): ProcessRef | undefined {
  const startTime = startTimeOf(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** Whether the process is still the one recorded. */
export function isAlive(ref: ProcessRef | undefined): boolean {
  return ref !== undefined && startTimeOf(ref.pid) === ref.startTime;
}

/** Sends a signal, ignoring a process that is already gone. */
export function signal(ref: ProcessRef | undefined, name: NodeJS.Signals): void {
  if (!isAlive(ref)) return;
  try {
    process.kill((ref as ProcessRef).pid, name);
  } catch {
    // gone meanwhile
  }
}

/** Waits (blocking: the tools are short-lived) until the process ends; false on timeout. */
export function waitGoneSync(ref: ProcessRef | undefined, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (isAlive(ref)) {
    if (Date.now() > deadline) return false;
    Atomics.wait(pause, 0, 0, 20);
  }
  return true;
}
