/**
 * `kubeha lab fault ...`: the parts' own faults on a running lab. Host faults come from lab/hosts,
 * AWS faults go to the front's control API (the lab AWS runs in the supervisor process).
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { delaySsh, dropSsh, isolate, rejoin, restoreSsh, runOnLabHost, startLabHost, stopLabHost } from '../hosts';
import { awsRunning } from './awsSupervisor';
import { findHost, hostProcesses, hostRecord, labHostOf } from './hostAccess';
import { labPaths, readLabState, type LabPaths, type LabState } from './state';
import { startStaticPod, stopStaticPod } from './staticPodFaults';
import { hostSide, labHostPaths } from '../hosts/layout';
import { updateWorkloadRules, workloadRulesFile } from '../kube/kubelet/labRules';
import { networkBrokenMarker } from '../kube/kubelet/network';

/** The faults, with the argument each takes. */
export const LAB_FAULTS = {
  'host-stop': 'host',
  'host-start': 'host',
  'ssh-drop': 'host',
  'ssh-restore': 'host',
  'ssh-delay': 'host+ms',
  isolate: 'host',
  rejoin: 'host',
  'kill-apiserver': 'host',
  'kill-etcd': 'host',
  'etcd-wipe': 'host',
  'apiserver-stop': 'host',
  'apiserver-start': 'host',
  'aws-throttle': 'count',
  'aws-error': 'count',
  'aws-clear': 'none',
  'cni-break': 'none',
  'cni-fix': 'none',
  'node-notready': 'host',
  'node-ready': 'host',
} as const;
/** One fault's name. */
export type LabFaultName = keyof typeof LAB_FAULTS;

function running(dataDir?: string): { paths: LabPaths; state: LabState } {
  const paths = labPaths(dataDir);
  const state = readLabState(paths);
  if (!state) throw new Error('the lab is down: `kubeha lab up` first');
  return { paths, state };
}

/** Kills the host's processes running `program`; the lab kubelet restarts them, as a real kubelet does. */
function killProgram(paths: LabPaths, host: string, program: string): string {
  const pids = hostProcesses(hostRecord(paths, host))
    .filter((p) => p.program === program)
    .map((p) => p.pid);
  if (pids.length === 0) throw new Error(`no ${program} runs on ${host}`);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return `killed ${program} on ${host} (pid ${pids.join(', ')}); its kubelet starts it again`;
}

/**
 * The host's etcd data is lost, as with a failed disk: the data directory is emptied and a plain file
 * stands where etcd keeps its member folder, so the etcd the kubelet restarts exits at once (it cannot
 * create its folders) instead of starting a new, empty cluster. The host and its kubelet stay up.
 */
function wipeEtcd(paths: LabPaths, host: string): string {
  const dataDir = hostSide(labHostPaths(paths.labDir, host).rootDir, '/var/lib/etcd');
  // Its contents only: the folder itself is what the host's /var/lib/etcd is bound to.
  for (const entry of readdirSync(dataDir)) rmSync(path.join(dataDir, entry), { recursive: true, force: true });
  writeFileSync(path.join(dataDir, 'member'), 'lost by `kubeha lab fault etcd-wipe`\n');
  const killed = hostProcesses(hostRecord(paths, host)).filter((p) => p.program === 'etcd');
  for (const p of killed) process.kill(p.pid, 'SIGKILL');
  return `etcd data on ${host} lost (its etcd ${killed.length ? 'killed; the kubelet restarts it and it exits at once' : 'was not running'})`;
}

/** A host that starts again boots like a machine: the kubelet starts when its unit is enabled. */
async function boot(paths: LabPaths, name: string): Promise<void> {
  await runOnLabHost(labHostOf(paths, name), 'if systemctl is-enabled kubelet >/dev/null 2>&1; then systemctl start kubelet; fi');
}

async function awsFault(state: LabState, body: unknown, method = 'POST'): Promise<void> {
  if (!state.aws || !awsRunning(state.aws)) throw new Error('the lab AWS is not running');
  const response = await fetch(`${state.aws.endpoint}/kubeha-lab/faults`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: method === 'POST' ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`the lab AWS refused the fault: HTTP ${response.status} ${await response.text()}`);
}

function count(value: string | undefined, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a whole number, got ${value ?? '(nothing)'}`);
  return n;
}

/** Injects `fault` with its arguments; returns a sentence saying what was done. */
export async function labFault(fault: string, args: string[], dataDir?: string): Promise<string> {
  if (!(fault in LAB_FAULTS)) throw new Error(`unknown fault "${fault}"; faults: ${Object.keys(LAB_FAULTS).join(', ')}`);
  const { paths, state } = running(dataDir);
  const name = fault as LabFaultName;
  if (name === 'aws-throttle' || name === 'aws-error') {
    const n = count(args[0], 'the number of calls');
    await awsFault(state, { kind: name === 'aws-throttle' ? 'throttle' : 'server-error', count: n, ...(args[1] ? { action: args[1] } : {}) });
    return `the next ${n} AWS call(s)${args[1] ? ` of ${args[1]}` : ''} answer ${name === 'aws-throttle' ? 'Throttling' : 'InternalFailure'}`;
  }
  if (name === 'cni-break' || name === 'cni-fix') {
    const broken = name === 'cni-break';
    updateWorkloadRules(workloadRulesFile(paths.stateFile), (rules) => ({ ...rules, cniCrash: broken }));
    return broken
      ? 'every CNI pod (one that mounts /etc/cni/net.d) now crash-loops and writes no network configuration; nodes without one stay NotReady'
      : 'CNI pods run again (a crash-looping one installs its network configuration when it next starts)';
  }
  if (name === 'aws-clear') {
    await awsFault(state, undefined, 'DELETE');
    return 'pending AWS faults cleared';
  }
  const host = findHost(state, args[0] ?? '');
  switch (name) {
    case 'host-stop':
      await stopLabHost({ labDir: paths.labDir, name: host.name });
      return `${host.name} stopped (every process of it killed; its files kept)`;
    case 'host-start':
      await startLabHost({ labDir: paths.labDir, name: host.name, address: host.address, port: host.port, labLabel: state.topology.hostsBlockLabel });
      await boot(paths, host.name);
      return `${host.name} started (sshd, and the kubelet when enabled)`;
    case 'ssh-drop':
      await dropSsh(labHostOf(paths, host.name));
      return `sshd on ${host.name} stopped (connections refused; the host's processes run on)`;
    case 'ssh-restore':
      await restoreSsh(labHostOf(paths, host.name));
      return `sshd on ${host.name} listens again`;
    case 'ssh-delay': {
      const ms = count(args[1], 'the delay in milliseconds');
      await delaySsh(labHostOf(paths, host.name), ms);
      return `SSH to ${host.name} delayed by ${ms} ms each way`;
    }
    case 'isolate':
      await isolate(labHostOf(paths, host.name));
      return `${host.name} (${host.address}) cut off from the other hosts and the machine, both ways`;
    case 'rejoin':
      await rejoin(labHostOf(paths, host.name));
      return `${host.name} (${host.address}) connected again`;
    case 'kill-apiserver':
      return killProgram(paths, host.name, 'kube-apiserver');
    case 'kill-etcd':
      return killProgram(paths, host.name, 'etcd');
    case 'etcd-wipe':
      return wipeEtcd(paths, host.name);
    case 'apiserver-stop':
      return stopStaticPod(host.name, 'kube-apiserver', dataDir);
    case 'apiserver-start':
      return startStaticPod(host.name, 'kube-apiserver', dataDir);
    case 'node-notready': {
      const marker = networkBrokenMarker(labHostPaths(paths.labDir, host.name).hostLabDir);
      mkdirSync(path.dirname(marker), { recursive: true });
      writeFileSync(marker, 'broken by `kubeha lab fault node-notready`\n');
      return `the container runtime's network on ${host.name} is broken: its kubelet reports the Node NotReady (NetworkPluginNotReady)`;
    }
    case 'node-ready':
      rmSync(networkBrokenMarker(labHostPaths(paths.labDir, host.name).hostLabDir), { force: true });
      return `the container runtime's network on ${host.name} works again`;
  }
  throw new Error(`unhandled fault ${name}`);
}
