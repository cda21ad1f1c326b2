/** The lab's processes and their memory: the AWS supervisor and moto, and everything in each host's namespace. */
import { readFileSync } from 'node:fs';
import { isAlive } from '../tools/processes';
import { hostProcesses, hostRecord } from './hostAccess';
import { labPaths, readLabState } from './state';

/** Resident memory of a process in bytes (VmRSS), 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every live process of the lab right now. */
export function labProcessIds(dataDir?: string): number[] {
  const paths = labPaths(dataDir);
  const state = readLabState(paths);
  if (!state) return [];
  const pids = new Set<number>();
  if (state.aws && isAlive(state.aws.supervisor)) {
    pids.add(state.aws.supervisor.pid);
    if (state.aws.motoPid !== undefined) pids.add(state.aws.motoPid);
  }
  for (const host of state.hosts) {
    const record = hostRecord(paths, host.name);
    for (const p of hostProcesses(record)) pids.add(p.pid);
    if (record?.proxy && isAlive(record.proxy)) pids.add(record.proxy.pid);
  }
  return [...pids];
}

/** The summed resident memory of the lab's processes, in bytes. */
export function labRssBytes(dataDir?: string): number {
  return labProcessIds(dataDir).reduce((sum, pid) => sum + rssBytes(pid), 0);
}
