/**
 * What the lab end-to-end test reads from the lab's own records (never from kubeha): etcd's member
 * list through the real etcdctl, the commands each host received, the processes left on the machine;
 * and the lab of its own each test file brings up ({@link startTestLab}).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readCommandLog } from '../../../lab/hosts';
import { HOSTS_BLOCK_BEGIN } from '../../../lab/aws';
import { labHostPaths } from '../../../lab/hosts/layout';
import { isAlive } from '../../../lab/tools/processes';
import { applyLabAwsEnvironment, labDown, labUp, type LabTopology, type LabUpResult } from '../../../lab/orchestrator';

const run = promisify(execFile);

/** One member as `etcdctl member list -w json` prints it. */
export interface EtcdMember {
  name: string;
  isLearner: boolean;
  peerURLs: string[];
}

/**
 * The real etcdctl on this machine against a host's etcd client URL, with the host's own
 * healthcheck-client certificate (read from the host's folder, not through kubeha). A member that does
 * not listen fails it after 5 s.
 */
export async function labEtcdctl(labDir: string, host: { name: string; address: string }, args: string[]): Promise<string> {
  const pki = path.join(labHostPaths(labDir, host.name).rootDir, 'etc', 'kubernetes', 'pki', 'etcd');
  const { stdout } = await run(
    '/usr/bin/etcdctl',
    [
      `--endpoints=https://${host.address}:2379`,
      `--cacert=${path.join(pki, 'ca.crt')}`,
      `--cert=${path.join(pki, 'healthcheck-client.crt')}`,
      `--key=${path.join(pki, 'healthcheck-client.key')}`,
      '--command-timeout=5s',
      ...args,
    ],
    { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 15_000 },
  );
  return stdout;
}

/** The member list a host's etcd reports ({@link labEtcdctl}). */
export async function etcdMembers(labDir: string, host: { name: string; address: string }): Promise<EtcdMember[]> {
  const parsed = JSON.parse(await labEtcdctl(labDir, host, ['member', 'list', '-w', 'json'])) as {
    members?: { name?: string; isLearner?: boolean; peerURLs?: string[] }[];
  };
  return (parsed.members ?? []).map((m) => ({ name: m.name ?? '', isLearner: m.isLearner === true, peerURLs: m.peerURLs ?? [] }));
}

/** How many command lines a host received that run `kubeadm <verb>` (also inside kubeha's `exec sh -c '...'` wrapper). */
export function kubeadmRuns(labDir: string, hostName: string, verb: 'init' | 'join'): number {
  const log = readCommandLog(labHostPaths(labDir, hostName).commandsLog);
  // `kubeadm init phase upload-certs` (a credential refresh) is not an init.
  const pattern = new RegExp(`(^|[\\s;&|('"])kubeadm ${verb}(?!\\s+phase)(\\s|$)`, 'm');
  return log.filter((entry) => pattern.test(entry.command)).length;
}

/** Live processes whose command line mentions `needle` (zombies excluded). */
export function processesMentioning(needle: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (command.includes(needle)) found.push({ pid: Number(entry), command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** One target transition as the lab AWS front's event log records it. */
export interface TargetTransition {
  at: number;
  id: string;
  from: string;
  to: string;
}

/** The target transitions the lab AWS front recorded at or after `since` (ms), oldest first. */
export async function targetTransitions(awsEndpoint: string, since: number): Promise<TargetTransition[]> {
  const response = await fetch(`${awsEndpoint}/kubeha-lab/events?since=${since}`);
  if (!response.ok) throw new Error(`the lab AWS events answered HTTP ${response.status}`);
  const events = (await response.json()) as { kind: string; at: number; id?: string; from?: string; to?: string }[];
  return events.filter((e) => e.kind === 'target').map((e) => ({ at: e.at, id: e.id ?? '', from: e.from ?? '', to: e.to ?? '' }));
}

/** A lab of one test file's own, in a data folder of its own. */
export interface TestLab {
  /** The data folder (KUBEHA_DATA_DIR while the lab runs): secrets, codec keys, the lab. */
  dataDir: string;
  lab: LabUpResult;
  /** How long `lab up` took. */
  upMs: number;
  /** Lab down, the folder removed, KUBEHA_DATA_DIR as it was before. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Brings up `topology` in a fresh data folder (in memory where /dev/shm exists: etcd and the lab
 * write a lot), made this process's KUBEHA_DATA_DIR, with the lab's dummy AWS credentials set.
 * A lab that fails to come up is taken down again before the error is thrown.
 */
export async function startTestLab(name: string, topology: LabTopology): Promise<TestLab> {
  const dataDir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `kubeha-${name}-`));
  const previousDataDir = process.env.KUBEHA_DATA_DIR;
  process.env.KUBEHA_DATA_DIR = dataDir;
  applyLabAwsEnvironment();
  const close = async (): Promise<void> => {
    if (existsSync(dataDir)) {
      await labDown({ dataDir });
      rmSync(dataDir, { recursive: true, force: true });
    }
    if (previousDataDir === undefined) delete process.env.KUBEHA_DATA_DIR;
    else process.env.KUBEHA_DATA_DIR = previousDataDir;
  };
  const started = Date.now();
  try {
    const lab = await labUp({ dataDir, topology });
    return { dataDir, lab, upMs: Date.now() - started, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/**
 * Takes the lab down and asserts it left nothing: every host and the AWS supervisor stopped, moto
 * exited, no process referring to the lab folder or a host's address, no /etc/hosts block labelled
 * `hostsBlockLabel`, no state file, and the lab AWS front no longer answering.
 */
export async function assertLabDownLeavesNothing(lab: LabUpResult, dataDir: string, hostsBlockLabel: string): Promise<void> {
  const { aws, hosts } = lab.state;
  const report = await labDown({ dataDir });
  assert.deepEqual(report.stoppedHosts.sort(), hosts.map((h) => h.name).sort());
  assert.equal(report.stoppedAws, true);
  assert.equal(isAlive(aws!.supervisor), false, 'the supervisor has exited');
  assert.equal(
    aws!.motoPid !== undefined && existsSync(`/proc/${aws!.motoPid}`) && readFileSync(`/proc/${aws!.motoPid}/cmdline`, 'utf8').includes('moto'),
    false,
    'moto has exited',
  );
  assert.deepEqual(processesMentioning(dataDir), [], 'no process refers to the lab folder (sshd, kubelet)');
  for (const host of hosts) assert.deepEqual(processesMentioning(`${host.address}:`), [], `nothing of ${host.name} runs (etcd, kube-apiserver)`);
  assert.ok(!readFileSync('/etc/hosts', 'utf8').includes(`${HOSTS_BLOCK_BEGIN} ${hostsBlockLabel}`), 'the hosts block is gone');
  assert.equal(existsSync(lab.paths.stateFile), false);
  await assert.rejects(fetch(`${aws!.endpoint}/kubeha-lab/status`));
}
