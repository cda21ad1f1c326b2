/**
 * Where the lab's kubeadm and kubelet find things on a lab host: the real paths kubeadm uses (the
 * host's own directories are bind-mounted over them in its mount namespace), the host's lab folder,
 * the lab settings in state.json, the host's address and the real server binaries.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../lib/paths';

/** kubeadm's paths on a host (kubeadm constants). */
export const KUBE = {
  dir: '/etc/kubernetes',
  pki: '/etc/kubernetes/pki',
  manifests: '/etc/kubernetes/manifests',
  adminConf: '/etc/kubernetes/admin.conf',
  superAdminConf: '/etc/kubernetes/super-admin.conf',
  kubeletConf: '/etc/kubernetes/kubelet.conf',
  bootstrapKubeletConf: '/etc/kubernetes/bootstrap-kubelet.conf',
  controllerManagerConf: '/etc/kubernetes/controller-manager.conf',
  schedulerConf: '/etc/kubernetes/scheduler.conf',
  etcdData: '/var/lib/etcd',
  kubeletDir: '/var/lib/kubelet',
} as const;

/** The Kubernetes version the lab's kubeadm reports and writes into manifests. */
export const KUBERNETES_VERSION = 'v1.37.2';
/** The etcd image tag kubeadm 1.37 pins (the lab runs the etcd binary it finds instead). */
export const ETCD_IMAGE_TAG = '3.6.5-0';

/** The lab settings kubeadm and the kubelet honour (state.json `settings`, or top-level keys). */
export interface LabKubeSettings {
  /** Age after which a join sees no uploaded certificates (kubeadm deletes them after 2 h). */
  uploadedCertsTtlSeconds: number;
  /** How long join discovery waits for a usable cluster-info signature (kubeadm's timeouts.discovery, 5 min). */
  discoveryTimeoutSeconds?: number;
  /** How often the kubelet renews its Node's Ready condition. */
  nodeHeartbeatSeconds: number;
  /** How long kubeadm retries one etcd call (kubeadm's timeouts.etcdAPICall, 2 min): shortened in tests. */
  etcdApiCallTimeoutSeconds?: number;
}

const DEFAULT_SETTINGS: LabKubeSettings = { uploadedCertsTtlSeconds: 7200, nodeHeartbeatSeconds: 5 };

/** The host context, read from the environment sshd gives a lab session. */
export interface HostEnv {
  /** KUBEHA_LAB_HOST, else the machine's host name. */
  hostName: string;
  /** The host's lab folder (pids, logs); KUBEHA_LAB_DIR, else /var/log/kubeha-lab. */
  labDir: string;
  /** The parsed state.json, if any. */
  state: Record<string, unknown> | undefined;
  settings: LabKubeSettings;
  env: NodeJS.ProcessEnv;
}

function readState(file: string | undefined): Record<string, unknown> | undefined {
  if (!file || !existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function numberSetting(sources: (Record<string, unknown> | undefined)[], key: string): number | undefined {
  for (const source of sources) {
    const value = source?.[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

/** Reads the host context. */
export function hostEnv(env: NodeJS.ProcessEnv = process.env): HostEnv {
  const state = readState(env.KUBEHA_LAB_STATE);
  const sources = [state?.settings as Record<string, unknown> | undefined, state?.kube as Record<string, unknown> | undefined, state];
  const settings: LabKubeSettings = { ...DEFAULT_SETTINGS };
  for (const key of ['uploadedCertsTtlSeconds', 'discoveryTimeoutSeconds', 'nodeHeartbeatSeconds', 'etcdApiCallTimeoutSeconds'] as const) {
    const value = numberSetting(sources, key);
    if (value !== undefined) settings[key] = value;
  }
  return {
    hostName: env.KUBEHA_LAB_HOST || os.hostname(),
    labDir: env.KUBEHA_LAB_DIR || '/var/log/kubeha-lab',
    state,
    settings,
    env,
  };
}

/** Finds `{ name: host, address }` anywhere in the state (the topology's shape is the lab's business). */
function addressInState(node: unknown, hostName: string, depth = 0): string | undefined {
  if (!node || typeof node !== 'object' || depth > 6) return undefined;
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = addressInState(item, hostName, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const record = node as Record<string, unknown>;
  if (record.name === hostName && typeof record.address === 'string') return record.address;
  for (const [key, value] of Object.entries(record)) {
    if (key === hostName && value && typeof value === 'object' && typeof (value as Record<string, unknown>).address === 'string') {
      return (value as Record<string, unknown>).address as string;
    }
    const found = addressInState(value, hostName, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The host's own address: KUBEHA_LAB_ADDRESS, else state.json, else undefined. */
export function hostAddress(host: HostEnv): string | undefined {
  if (host.env.KUBEHA_LAB_ADDRESS) return host.env.KUBEHA_LAB_ADDRESS;
  return addressInState(host.state, host.hostName);
}

/** Where the real server binaries are: KUBEHA_KUBE_BIN_DIR, else the build cache of the pinned version. */
export function kubeBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBEHA_KUBE_BIN_DIR) return env.KUBEHA_KUBE_BIN_DIR;
  const cache = env.KUBEHA_CACHE_DIR || path.join(env.HOME || os.homedir(), '.cache', 'kubeha');
  return path.join(cache, 'kube', KUBERNETES_VERSION, 'bin');
}

/** The etcd server binary: KUBEHA_ETCD_BIN, else a built etcd beside kube-apiserver, else Debian's. */
export function etcdBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBEHA_ETCD_BIN) return env.KUBEHA_ETCD_BIN;
  const built = path.join(kubeBinDir(env), 'etcd');
  return existsSync(built) ? built : '/usr/bin/etcd';
}

/** The real etcdctl (Debian etcd-client). */
export function etcdctlBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBEHA_ETCDCTL_BIN || '/usr/bin/etcdctl';
}

/** The directory of the compiled lab JavaScript (dist/lab/... by default), as the launchers use it. */
export function labJsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBEHA_LAB_KUBE_JS_DIR || path.resolve(__dirname);
}

/** The repository root (for the launchers in lab/tools/bin). */
export const repoRoot = projectRoot;
