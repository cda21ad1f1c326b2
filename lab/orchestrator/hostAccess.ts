/** The lab's hosts as the status and fault commands reach them: records, namespaces, processes. */
import { readFileSync } from 'node:fs';
import { readLabHostRecord, type LabHost, type LabHostRecord } from '../hosts';
import { labHostPaths } from '../hosts/layout';
import { processesInNamespace } from '../hosts/namespace';
import type { LabPaths, LabState, LabStateHost } from './state';

/** The state's host called `name`, or an error listing the hosts there are. */
export function findHost(state: LabState, name: string): LabStateHost {
  const host = state.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no lab host "${name}"; the lab has ${state.hosts.map((h) => h.name).join(', ')}`);
  return host;
}

/** A running host as lab/hosts' fault functions take it. */
export function labHostOf(paths: LabPaths, name: string): LabHost {
  const hostPaths = labHostPaths(paths.labDir, name);
  const record = readLabHostRecord(hostPaths);
  if (!record) throw new Error(`lab host ${name} was never started`);
  return { ...record, paths: hostPaths, rootDir: hostPaths.rootDir, labDir: hostPaths.hostLabDir, clientKeyPath: hostPaths.clientKey };
}

/** The host's record, if any. */
export function hostRecord(paths: LabPaths, name: string): LabHostRecord | undefined {
  return readLabHostRecord(labHostPaths(paths.labDir, name));
}

/** A process of a host: pid and the program's name (`kubelet` for the lab kubelet, which runs under node). */
export interface HostProcess {
  pid: number;
  program: string;
}

function programOf(pid: number): string | undefined {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (comm !== 'node') return comm;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const script = argv.find((a) => a.endsWith('.js')) ?? '';
    if (/kubelet/.test(script)) return 'kubelet';
    return script.split('/').slice(-2).join('/') || comm;
  } catch {
    return undefined;
  }
}

/** Every process in the host's mount namespace (sshd, sessions, kubelet, etcd, kube-apiserver, the holder). */
export function hostProcesses(record: LabHostRecord | undefined): HostProcess[] {
  if (!record?.namespace) return [];
  const found: HostProcess[] = [];
  for (const pid of processesInNamespace(record.namespace)) {
    const program = programOf(pid);
    if (program) found.push({ pid, program });
  }
  return found;
}
