/**
 * What really happened, read from the lab's own records and never from kubeha: the commands each host
 * received (commands.log), etcd's member list through the real etcdctl, the lab AWS front's targets,
 * and Secret kube-system/kubeadm-certs opened with the key kubeha stored.
 */
import path from 'node:path';
import { FileSecretStore } from '../../../activities/secrets/store';
import { readCommandLog } from '../../../lab/hosts';
import { labHostPaths } from '../../../lab/hosts/layout';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { decodeCertificateKey, decryptBytes, secretKeyOf, TRANSFERRED } from '../../../lab/kube/uploadCerts';
import type { LabUpResult } from '../../../lab/orchestrator';
import { etcdMembers, kubeadmRuns } from '../../lab/e2e/support';
import { frontStatus } from '../../lab/e2e/labWorkerRun';

/** The counts a bootstrap point reports, with every way they differ from one clean run. */
export interface BootstrapRecords {
  /** `kubeadm init` on the primary. */
  inits: number;
  /** `kubeadm join` per non-primary host. */
  joins: Record<string, number>;
  /** Extra init/join command lines over one clean run (must be 0). */
  duplicates: number;
  /** Registered targets as `address:state`. */
  targets: string[];
  /** etcd member names (`name(learner)` for a learner). */
  members: string[];
  problems: string[];
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/** Counts the lab's records after a BootstrapStackedEtcd run and compares them with one clean run. */
export async function bootstrapRecords(lab: LabUpResult): Promise<BootstrapRecords> {
  const labDir = lab.paths.labDir;
  const hosts = lab.state.hosts;
  const controlPlanes = hosts.filter((h) => h.role === 'control-plane');
  const spares = hosts.filter((h) => h.role === 'spare-control-plane');
  const [primary] = controlPlanes;
  const problems: string[] = [];

  const inits = kubeadmRuns(labDir, primary.name, 'init');
  let duplicates = Math.max(0, inits - 1);
  if (inits !== 1) problems.push(`kubeadm init ran ${inits} times on ${primary.name}`);
  const joins: Record<string, number> = {};
  for (const host of hosts) {
    if (host === primary) {
      const primaryJoins = kubeadmRuns(labDir, host.name, 'join');
      duplicates += primaryJoins;
      if (primaryJoins) problems.push(`the primary ${host.name} ran kubeadm join ${primaryJoins} times`);
      continue;
    }
    const otherInits = kubeadmRuns(labDir, host.name, 'init');
    duplicates += otherInits;
    if (otherInits) problems.push(`${host.name} ran kubeadm init ${otherInits} times`);
    joins[host.name] = kubeadmRuns(labDir, host.name, 'join');
    duplicates += Math.max(0, joins[host.name] - 1);
    if (joins[host.name] !== 1) problems.push(`${host.name} ran kubeadm join ${joins[host.name]} times`);
  }

  const status = await frontStatus(lab.state.aws!.endpoint);
  const targetList = status.loadBalancers.flatMap((lb) => lb.targets.map((t) => `${t.id}:${t.state}`));
  if (status.loadBalancers.length !== 1) problems.push(`${status.loadBalancers.length} load balancers`);
  const expectedTargets = controlPlanes.map((h) => `${h.address}:healthy`);
  if (!sameSet(targetList, expectedTargets))
    problems.push(`targets ${targetList.join(', ')} are not exactly the control planes (${expectedTargets.join(', ')})`);
  for (const spare of spares) if (targetList.some((t) => t.startsWith(`${spare.address}:`))) problems.push(`the spare ${spare.name} is a target`);

  let members: string[] = [];
  try {
    const list = await etcdMembers(labDir, controlPlanes[1] ?? primary);
    members = list.map((m) => (m.isLearner ? `${m.name}(learner)` : m.name));
    const expected = [...controlPlanes, ...spares].map((h) => h.name);
    if (!sameSet(members, expected)) problems.push(`etcd members ${members.join(', ')} are not ${expected.join(', ')}`);
  } catch (err) {
    problems.push(`etcdctl member list failed: ${(err as Error).message.split('\n')[0]}`);
  }
  return { inits, joins, duplicates, targets: targetList, members, problems };
}

/** Command lines a host received from entry `from` on that match `pattern`. */
export function commandsSince(lab: LabUpResult, hostName: string, pattern: RegExp, from = 0): number {
  return readCommandLog(labHostPaths(lab.paths.labDir, hostName).commandsLog)
    .slice(from)
    .filter((e) => pattern.test(e.command)).length;
}

/** How many command lines a host has received so far (a mark for {@link commandsSince}). */
export function commandCount(lab: LabUpResult, hostName: string): number {
  return readCommandLog(labHostPaths(lab.paths.labDir, hostName).commandsLog).length;
}

/**
 * Whether the certificate key kubeha stored for the cluster opens every file of Secret
 * kube-system/kubeadm-certs, read through the admin kubeconfig (the API via the load balancer).
 * Returns the problems (none when it opens).
 */
export async function storedKeyOpensUploadedCerts(dataDir: string, clusterName: string): Promise<string[]> {
  const store = new FileSecretStore(path.join(dataDir, 'secrets'));
  const key = (await store.get(`clusters/${clusterName}/certificate-key`)).trim();
  const api = new KubeClient(parseKubeconfig(await store.get(`clusters/${clusterName}/admin-kubeconfig`)));
  const secret = await api.request('GET', '/api/v1/namespaces/kube-system/secrets/kubeadm-certs');
  if (secret.status !== 200) return [`GET kubeadm-certs answered HTTP ${secret.status}`];
  const data = (secret.body as { data?: Record<string, string> }).data ?? {};
  const problems: string[] = [];
  for (const file of TRANSFERRED) {
    const sealed = data[secretKeyOf(file)];
    if (!sealed) {
      problems.push(`kubeadm-certs has no ${file}`);
      continue;
    }
    try {
      decryptBytes(Buffer.from(sealed, 'base64'), decodeCertificateKey(key));
    } catch (err) {
      problems.push(`${file} does not open with the stored key: ${(err as Error).message}`);
    }
  }
  return problems;
}
