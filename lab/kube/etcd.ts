/**
 * kubeadm's etcd calls (member list / add --learner / promote / remove), made with the real
 * etcdctl (Debian etcd-client) and kubeadm's etcd client certificates. etcdctl's own error text
 * ("etcdserver: Peer URLs already exists", "can only promote a learner member which is in sync
 * with leader") reaches kubeadm's output unchanged.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { etcdctlBinary } from './env';
import { KubeadmError } from './errors';

/** One member, ids in hex as etcdctl prints them in tables and takes them as arguments. */
export interface Member {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** How to reach etcd: endpoints and the client certificate. */
export interface EtcdAccess {
  endpoints: string[];
  certificatesDir: string;
}

/** The result of one etcdctl run. */
export interface EtcdctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs etcdctl (API v3) with kubeadm's health-check client certificate. */
export function etcdctl(access: EtcdAccess, args: string[], timeoutMs = 20_000): Promise<EtcdctlResult> {
  const pki = path.join(access.certificatesDir, 'etcd');
  const argv = [
    `--endpoints=${access.endpoints.join(',')}`,
    `--cacert=${pki}/ca.crt`,
    `--cert=${pki}/healthcheck-client.crt`,
    `--key=${pki}/healthcheck-client.key`,
    '--dial-timeout=3s',
    `--command-timeout=${Math.max(1, Math.floor(timeoutMs / 1000) - 1)}s`,
    ...args,
  ];
  return new Promise((resolve) => {
    const child = spawn(etcdctlBinary(), argv, { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** The error text of a failed etcdctl run (its `Error: ` line without the prefix). */
export function etcdctlError(result: EtcdctlResult): string {
  const line =
    result.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('Error:'))
      .pop() ??
    result.stderr.trim().split('\n').pop() ??
    `etcdctl exited ${result.code}`;
  return line.replace(/^Error:\s*/, '');
}

function parseMembers(json: string): Member[] {
  const doc = JSON.parse(json.replace(/("ID"\s*:\s*)(\d+)/g, '$1"$2"')) as { members?: Record<string, unknown>[] };
  return (doc.members ?? []).map((m) => ({
    id: BigInt(String(m.ID)).toString(16),
    name: typeof m.name === 'string' ? m.name : '',
    peerUrls: Array.isArray(m.peerURLs) ? m.peerURLs.map(String) : [],
    clientUrls: Array.isArray(m.clientURLs) ? m.clientURLs.map(String) : [],
    isLearner: m.isLearner === true,
  }));
}

/** The member list. */
export async function listMembers(access: EtcdAccess): Promise<Member[]> {
  const result = await etcdctl(access, ['member', 'list', '-w', 'json']);
  if (result.code !== 0) throw new KubeadmError(etcdctlError(result));
  return parseMembers(result.stdout);
}

/** Adds a learner; returns the new member's hex id and the list after the addition. */
export async function addLearner(access: EtcdAccess, name: string, peerUrl: string): Promise<{ id: string; members: Member[] }> {
  const result = await etcdctl(access, ['member', 'add', name, `--peer-urls=${peerUrl}`, '--learner', '-w', 'json']);
  if (result.code !== 0) throw new KubeadmError(etcdctlError(result));
  const doc = JSON.parse(result.stdout.replace(/("ID"\s*:\s*)(\d+)/g, '$1"$2"')) as { member?: { ID?: string } };
  return { id: BigInt(String(doc.member?.ID)).toString(16), members: parseMembers(result.stdout) };
}

/** Promotes a learner; the error text is etcd's when it is not in sync yet. */
export async function promote(access: EtcdAccess, id: string): Promise<void> {
  const result = await etcdctl(access, ['member', 'promote', id]);
  if (result.code !== 0) throw new KubeadmError(etcdctlError(result));
}

/** Removes a member by hex id. */
export async function removeMember(access: EtcdAccess, id: string): Promise<void> {
  const result = await etcdctl(access, ['member', 'remove', id]);
  if (result.code !== 0) throw new KubeadmError(etcdctlError(result));
}

/** Whether every endpoint answers healthy. */
export async function endpointsHealthy(access: EtcdAccess): Promise<boolean> {
  const result = await etcdctl(access, ['endpoint', 'health', '-w', 'json'], 8000);
  return result.code === 0;
}

/** `name=peer,...` for --initial-cluster: started members by name, the new one by the given name. */
export function initialCluster(members: Member[], newName: string, newPeerUrl: string): string {
  const entries: string[] = [];
  for (const m of members) {
    const name = m.peerUrls.includes(newPeerUrl) ? newName : m.name;
    if (!name) continue;
    for (const url of m.peerUrls) entries.push(`${name}=${url}`);
  }
  if (!entries.some((e) => e.endsWith(`=${newPeerUrl}`))) entries.push(`${newName}=${newPeerUrl}`);
  return entries.join(',');
}
