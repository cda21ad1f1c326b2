/**
 * `kubeadm reset -f`: removes this host's etcd member (unless it is the last), stops the kubelet
 * and the static Pods' processes, and deletes what init or join wrote, printing kubeadm's lines.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { flagSet, type ParsedArgs, UsageError } from './args';
import { type HostEnv, KUBE } from './env';
import { listMembers, removeMember } from './etcd';
import { ETCD_CLIENT_URLS_ANNOTATION, manifestPath, readManifest } from './manifests';
import type { Out } from './phases';
import { stopAllPods, stopKubelet } from './processes';

function emptyDir(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) rmSync(path.join(dir, entry), { recursive: true, force: true });
}

/** This host's etcd member and where the other members listen, read while the local etcd still runs. */
async function ownEtcdMember(): Promise<{ id: string; others: string[]; last: boolean } | undefined> {
  const file = manifestPath('etcd');
  if (!existsSync(file)) return undefined;
  const manifest = readManifest(file);
  const clientUrl = manifest.metadata.annotations?.[ETCD_CLIENT_URLS_ANNOTATION];
  const peerFlag = manifest.spec.containers[0]?.command?.find((w) => w.startsWith('--initial-advertise-peer-urls='));
  if (!clientUrl || !peerFlag) return undefined;
  const peerUrl = peerFlag.split('=')[1];
  try {
    const members = await listMembers({ endpoints: [clientUrl], certificatesDir: KUBE.pki });
    const own = members.find((m) => m.peerUrls.includes(peerUrl));
    if (!own) return undefined;
    return { id: own.id, others: members.filter((m) => m !== own).flatMap((m) => m.clientUrls), last: members.length === 1 };
  } catch {
    return undefined;
  }
}

/** This host's member leaves the cluster (kubeadm's remove-etcd-member phase), through the other members. */
async function removeOwnEtcdMember(member: { id: string; others: string[]; last: boolean }, out: Out, warn: Out): Promise<void> {
  if (member.last) {
    out('[etcd] This is the only remaining etcd member in the etcd cluster, skip removing it');
    return;
  }
  try {
    await removeMember({ endpoints: member.others, certificatesDir: KUBE.pki }, member.id);
  } catch (err) {
    warn(`W${new Date().toISOString()} [reset] Failed to remove etcd member: ${(err as Error).message}\nPlease manually remove this etcd member using etcdctl`);
  }
}

/** Runs `kubeadm reset`. */
export async function runReset(args: ParsedArgs, host: HostEnv, out: Out, warn: Out): Promise<void> {
  if (!flagSet(args, 'force')) throw new UsageError('the lab kubeadm reset needs -f / --force (it does not ask questions)');
  out('[preflight] Running pre-flight checks');
  const member = await ownEtcdMember();
  // Lab order: the kubelet and kube-apiserver stop first, while the local etcd still serves (an API
  // server that loses its etcd takes its whole grace period to stop); then the member leaves while
  // quorum still counts it, then etcd stops.
  out('[reset] Stopping the kubelet service');
  await stopKubelet(host);
  await stopAllPods(host, ['etcd']);
  if (member) await removeOwnEtcdMember(member, out, warn);
  await stopAllPods(host);
  if (existsSync(KUBE.etcdData) && readdirSync(KUBE.etcdData).length > 0) {
    emptyDir(KUBE.etcdData);
    out(`[reset] Deleted contents of the etcd data directory: ${KUBE.etcdData}`);
  }
  out(`[reset] Unmounting mounted directories in "${KUBE.kubeletDir}"`);
  const dirs = [KUBE.manifests, KUBE.kubeletDir, KUBE.pki];
  out(`[reset] Deleting contents of directories: [${dirs.join(' ')}]`);
  for (const dir of dirs) emptyDir(dir);
  const files = [KUBE.adminConf, KUBE.superAdminConf, KUBE.kubeletConf, KUBE.bootstrapKubeletConf, KUBE.controllerManagerConf, KUBE.schedulerConf];
  out(`[reset] Deleting files: [${files.join(' ')}]`);
  for (const file of files) rmSync(file, { force: true });
  out(`
The reset process does not perform cleanup of CNI plugin configuration,
network filtering rules and kubeconfig files.

For information on how to perform this cleanup manually, please see:
    https://k8s.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/
`);
}
