/** `kubeha lab status`: hosts, addresses, what runs on them, their etcd and API health, and the lab AWS. */
import type { LabAwsStatus } from '../aws';
import { isAlive } from '../tools/processes';
import { labHostPaths } from '../hosts/layout';
import { awsRunning } from './awsSupervisor';
import { apiserverHealth, describeProbe, etcdHealth } from './health';
import { hostProcesses, hostRecord } from './hostAccess';
import { labPaths, readLabState, type LabState } from './state';

/** One host's status. */
export interface LabHostStatus {
  name: string;
  cluster: string;
  role: string;
  address: string;
  port: number;
  running: boolean;
  sshd: boolean;
  isolated: boolean;
  sshDelayProxy: boolean;
  /** Program name -> how many processes. */
  processes: Record<string, number>;
  etcd: string;
  apiserver: string;
}

/** The whole lab's status. */
export interface LabStatus {
  up: boolean;
  state?: LabState;
  hosts: LabHostStatus[];
  aws?: LabAwsStatus | { error: string };
}

/** Collects the lab's status (probes run in parallel). */
export async function labStatus(dataDir?: string): Promise<LabStatus> {
  const paths = labPaths(dataDir);
  const state = readLabState(paths);
  if (!state) return { up: false, hosts: [] };
  const hosts = await Promise.all(
    state.hosts.map(async (h): Promise<LabHostStatus> => {
      const record = hostRecord(paths, h.name);
      const running = isAlive(record?.holder);
      const processes: Record<string, number> = {};
      for (const p of hostProcesses(running ? record : undefined)) processes[p.program] = (processes[p.program] ?? 0) + 1;
      const [etcd, apiserver] = running
        ? await Promise.all([etcdHealth(labHostPaths(paths.labDir, h.name).rootDir, h.address), apiserverHealth(h.address)])
        : [{ error: 'host stopped' }, { error: 'host stopped' }];
      return {
        name: h.name,
        cluster: h.cluster,
        role: h.role,
        address: h.address,
        port: record?.port ?? h.port,
        running,
        sshd: isAlive(record?.sshd),
        isolated: record?.isolated === true,
        sshDelayProxy: isAlive(record?.proxy),
        processes,
        etcd: describeProbe(etcd),
        apiserver: describeProbe(apiserver),
      };
    }),
  );
  let aws: LabStatus['aws'];
  if (state.aws && awsRunning(state.aws)) {
    try {
      const response = await fetch(`${state.aws.endpoint}/kubeha-lab/status`, { signal: AbortSignal.timeout(5000) });
      aws = (await response.json()) as LabAwsStatus;
    } catch (err) {
      aws = { error: `the lab AWS front does not answer: ${(err as Error).message}` };
    }
  } else aws = { error: 'the lab AWS supervisor is not running' };
  return { up: awsRunning(state.aws) && hosts.every((h) => h.running), state, hosts, aws };
}

/** The status as lines for a terminal. */
export function formatLabStatus(status: LabStatus): string[] {
  if (!status.state) return ['the lab is down (no state.json): `kubeha lab up` starts it'];
  const lines = [`lab ${status.up ? 'up' : 'partly up'} since ${status.state.startedAt}`, ''];
  lines.push(
    'HOST'.padEnd(16) +
      'CLUSTER'.padEnd(8) +
      'ROLE'.padEnd(21) +
      'ADDRESS'.padEnd(16) +
      'SSH'.padEnd(14) +
      'ETCD'.padEnd(14) +
      'APISERVER'.padEnd(14) +
      'PROCESSES',
  );
  for (const h of status.hosts) {
    const ssh = !h.running ? 'stopped' : h.isolated ? 'isolated' : !h.sshd ? 'dropped' : `:${h.port}${h.sshDelayProxy ? ' (delay)' : ''}`;
    const procs = Object.entries(h.processes)
      .map(([p, n]) => (n > 1 ? `${p}x${n}` : p))
      .join(' ');
    lines.push(
      h.name.padEnd(16) + h.cluster.padEnd(8) + h.role.padEnd(21) + h.address.padEnd(16) + ssh.padEnd(14) + h.etcd.padEnd(14) + h.apiserver.padEnd(14) + procs,
    );
  }
  lines.push('');
  const aws = status.aws;
  if (!aws || 'error' in aws) {
    lines.push(`AWS: ${aws?.error ?? 'unknown'}`);
    return lines;
  }
  lines.push(`AWS front ${aws.endpoint} (moto ${aws.motoEndpoint}), regions ${aws.regions.join(', ')}`);
  if (aws.faults.length) lines.push(`pending faults: ${aws.faults.map((f) => `${f.kind} x${f.remaining}${f.action ? ` (${f.action})` : ''}`).join(', ')}`);
  if (aws.loadBalancers.length === 0) lines.push('no load balancers yet');
  for (const lb of aws.loadBalancers) {
    lines.push(
      `load balancer ${lb.name}: ${lb.dnsName} -> ${lb.address} (${lb.listeners.map((l) => `:${l.port}${l.listening ? '' : ' down'}, ${l.openConnections} open`).join('; ')})`,
    );
    for (const t of lb.targets) lines.push(`  target ${t.id}:${t.port} ${t.state}${t.reason ? ` (${t.reason})` : ''} since ${new Date(t.since).toISOString()}`);
  }
  return lines;
}
