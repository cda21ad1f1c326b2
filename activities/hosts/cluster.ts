/**
 * Questions kubeha asks the cluster through a control-plane host (kubectl with admin.conf,
 * etcdctl with kubeadm's etcd certificates). Files on a host are a hint; these answers decide.
 */
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import type { EtcdMember } from '../types';
import { hostFailure, type HostRunner, kubectl, REMOTE, shellWord } from './context';
import { etcdctlCommand, parseEndpointHealth, parseMemberList, withHealth } from './etcd';
import { checkUploadedCerts, type UploadedCertsCheck } from './pki';

// kubectl's answer for a missing object. Not a bare "not found": `sh: kubectl: not found` (no kubectl on
// the host) would read as "the Node is missing" and send a healthy node into repair.
const NOT_FOUND = /^Error from server \(NotFound\):/m;

/**
 * Whether the cluster answers through this host and has a Node of that name:
 * `found` (yes), `missing` (the API answered: no such Node), `unreachable` (no admin.conf, or no answer).
 */
export async function nodeState(run: HostRunner, via: HostSpec, nodeName: string): Promise<'found' | 'missing' | 'unreachable'> {
  if (!(await run.exists(via, REMOTE.adminConf, '-s'))) return 'unreachable';
  const result = await run.run(via, { command: kubectl(`get node ${shellWord(nodeName)} -o name`), label: 'kubectl get node' });
  if (result.exitCode === 0 && result.stdout.trim() === `node/${nodeName}`) return 'found';
  if (NOT_FOUND.test(result.stderr)) return 'missing';
  return 'unreachable';
}

/** The etcd members with their health, through a control-plane host. */
export async function listEtcdMembers(run: HostRunner, via: HostSpec): Promise<EtcdMember[]> {
  const list = await run.run(via, { command: etcdctlCommand('member list -w json'), label: 'etcdctl member list' });
  if (list.exitCode !== 0) {
    throw hostFailure({
      type: ErrorType.Unreachable,
      host: via,
      message: 'etcdctl member list failed',
      retryable: true,
      hint: 'etcd on this control-plane host does not answer on https://127.0.0.1:2379; check `crictl ps` for the etcd container and that etcdctl is installed (prepareHost installs etcd-client)',
      result: list,
    });
  }
  const members = parseMemberList(list.stdout);
  // etcdctl exits 1 when an endpoint is unhealthy but still prints the JSON list: read stdout either way.
  const health = await run.run(via, { command: etcdctlCommand('endpoint health --cluster -w json'), label: 'etcdctl endpoint health' });
  let healthList: ReturnType<typeof parseEndpointHealth> = [];
  try {
    healthList = health.stdout.trim() ? parseEndpointHealth(health.stdout) : [];
  } catch {
    healthList = [];
  }
  return withHealth(members, healthList);
}

/** Removes an etcd member by its hex id. */
export async function removeEtcdMember(run: HostRunner, via: HostSpec, memberId: string): Promise<void> {
  if (!/^[0-9a-f]+$/.test(memberId)) throw new Error(`etcd member id "${memberId}" is not hex`);
  await run.check(
    via,
    { command: etcdctlCommand(`member remove ${memberId}`), label: 'etcdctl member remove' },
    'removing the stale etcd member failed; check quorum with `etcdctl endpoint health --cluster` on a control-plane host',
    ErrorType.CommandTransient,
  );
}

/** When a bootstrap token expires, from its Secret kube-system/bootstrap-token-<id>; undefined when it does not exist. */
export async function bootstrapTokenExpiry(run: HostRunner, via: HostSpec, id: string): Promise<Date | undefined> {
  if (!/^[a-z0-9]{6}$/.test(id)) throw new Error('bootstrap token id must be 6 lowercase letters or digits');
  const result = await run.run(via, {
    command: kubectl(`-n kube-system get secret bootstrap-token-${id} -o jsonpath={.data.expiration}`),
    label: 'kubectl get bootstrap token',
  });
  if (result.exitCode !== 0) {
    if (NOT_FOUND.test(result.stderr)) return undefined;
    throw hostFailure({
      type: ErrorType.Unreachable,
      host: via,
      message: 'cannot read bootstrap tokens',
      retryable: true,
      hint: 'the API server does not answer through admin.conf on this host',
      result,
    });
  }
  const text = Buffer.from(result.stdout.trim(), 'base64').toString('utf8');
  const when = Date.parse(text);
  // A token without expiration never expires.
  return Number.isNaN(when) ? new Date(8.64e15) : new Date(when);
}

/** What the Secret kube-system/kubeadm-certs says about a key: present, opened by the key, and until when. */
export interface UploadedCertsState extends UploadedCertsCheck {
  present: boolean;
  expiresAt?: Date;
}

/** Checks the uploaded certificates against a certificate key (decrypted on the worker; the key never reaches a command line). */
export async function uploadedCertsState(run: HostRunner, via: HostSpec, certificateKey: string): Promise<UploadedCertsState> {
  const result = await run.run(via, { command: kubectl('-n kube-system get secret kubeadm-certs -o json'), label: 'kubectl get secret kubeadm-certs' });
  if (result.exitCode !== 0) {
    if (NOT_FOUND.test(result.stderr)) return { present: false, opens: false };
    throw hostFailure({
      type: ErrorType.Unreachable,
      host: via,
      message: 'cannot read Secret kube-system/kubeadm-certs',
      retryable: true,
      hint: 'the API server does not answer through admin.conf on this host',
      result,
    });
  }
  const check = checkUploadedCerts(result.stdout, certificateKey);
  const expiresAt = check.ownerTokenId ? await bootstrapTokenExpiry(run, via, check.ownerTokenId) : undefined;
  return { present: true, ...check, expiresAt };
}

/** The cluster's ClusterConfiguration (ConfigMap kube-system/kubeadm-config). */
export async function clusterConfiguration(run: HostRunner, via: HostSpec): Promise<string> {
  const result = await run.check(
    via,
    { command: kubectl('-n kube-system get configmap kubeadm-config -o jsonpath={.data.ClusterConfiguration}'), label: 'kubectl get kubeadm-config' },
    'the ConfigMap kube-system/kubeadm-config must exist (kubeadm init creates it) and the API must answer',
    ErrorType.Unreachable,
  );
  if (!result.stdout.trim()) {
    throw hostFailure({
      type: ErrorType.Conflict,
      host: via,
      message: 'ConfigMap kube-system/kubeadm-config has no ClusterConfiguration',
      retryable: false,
      hint: 'this cluster was not set up by kubeadm, or its kubeadm-config was edited',
    });
  }
  return result.stdout;
}
