/**
 * kubeadm's configuration: InitConfiguration, ClusterConfiguration and JoinConfiguration of
 * kubeadm.k8s.io/v1beta4 (read strictly by configFile.ts), merged with kubeadm's defaults and the
 * command-line flags into what the lab's phases need.
 */
import { stringify } from 'yaml';
import { parseDuration, UsageError } from './args';
import { KUBE, KUBERNETES_VERSION } from './env';
import { KubeadmError } from './errors';
import type { EncryptionAlgorithm } from './pki';

/** One bootstrap token of InitConfiguration.bootstrapTokens. */
export interface BootstrapTokenSpec {
  token: string;
  description?: string;
  /** Milliseconds; 0 = never expires. */
  ttlMs: number;
  usages: string[];
  groups: string[];
}

/** The ClusterConfiguration fields the lab uses, defaulted. */
export interface ClusterConfig {
  clusterName: string;
  kubernetesVersion: string;
  controlPlaneEndpoint: string;
  podSubnet?: string;
  serviceSubnet: string;
  dnsDomain: string;
  certificatesDir: string;
  certSANs: string[];
  apiServerExtraArgs: Record<string, string>;
  etcdExtraArgs: Record<string, string>;
  etcdDataDir: string;
  encryptionAlgorithm: EncryptionAlgorithm;
  certificateValidityMs: number;
  caCertificateValidityMs: number;
  imageRepository: string;
}

/** kubeadm's default CRI socket on Linux (containerd). */
export const DEFAULT_CRI_SOCKET = 'unix:///var/run/containerd/containerd.sock';

/** What `kubeadm init` needs. */
export interface InitConfig {
  nodeName: string;
  criSocket: string;
  /** nodeRegistration.ignorePreflightErrors (the flag adds to them). */
  ignorePreflightErrors: string[];
  advertiseAddress?: string;
  bindPort: number;
  bootstrapTokens: BootstrapTokenSpec[];
  certificateKey?: string;
  taints?: unknown[];
  cluster: ClusterConfig;
}

/** What `kubeadm join` needs. */
export interface JoinConfig {
  nodeName: string;
  criSocket: string;
  ignorePreflightErrors: string[];
  apiServerEndpoint: string;
  token: string;
  caCertHashes: string[];
  unsafeSkipCAVerification: boolean;
  discoveryTimeoutMs: number;
  /** timeouts.etcdAPICall (v1beta4), 2 min by default. */
  etcdApiCallTimeoutMs: number;
  controlPlane?: { certificateKey?: string; advertiseAddress?: string; bindPort: number };
}

export const DEFAULT_SERVICE_SUBNET = '10.96.0.0/12';
const YEAR_MS = 365 * 24 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** v1beta4 extraArgs: a list of {name, value} (the decoder refuses v1beta3's map before this runs). */
function extraArgs(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(value)) return out;
  for (const item of value as { name?: unknown; value?: unknown }[]) if (typeof item?.name === 'string') out[item.name] = String(item.value ?? '');
  return out;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function duration(value: unknown, fallback: number): number {
  return typeof value === 'string' && value !== '' ? parseDuration(value) : fallback;
}

function section(obj: Record<string, unknown> | undefined, key: string): Record<string, unknown> {
  const value = obj?.[key];
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

/** A ClusterConfiguration document (or none) with kubeadm's defaults. */
export function clusterConfig(doc: Record<string, unknown> | undefined): ClusterConfig {
  const networking = section(doc, 'networking');
  const apiServer = section(doc, 'apiServer');
  const etcdLocal = section(section(doc, 'etcd'), 'local');
  const algorithm = str(doc?.encryptionAlgorithm) ?? 'RSA-2048';
  if (!['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256'].includes(algorithm)) {
    throw new UsageError(`encryptionAlgorithm: Invalid value: "${algorithm}": Supported values: "ECDSA-P256", "RSA-2048", "RSA-3072", "RSA-4096"`);
  }
  return {
    clusterName: str(doc?.clusterName) ?? 'kubernetes',
    kubernetesVersion: str(doc?.kubernetesVersion) ?? KUBERNETES_VERSION,
    controlPlaneEndpoint: str(doc?.controlPlaneEndpoint) ?? '',
    podSubnet: str(networking.podSubnet),
    serviceSubnet: str(networking.serviceSubnet) ?? DEFAULT_SERVICE_SUBNET,
    dnsDomain: str(networking.dnsDomain) ?? 'cluster.local',
    certificatesDir: str(doc?.certificatesDir) ?? KUBE.pki,
    certSANs: Array.isArray(apiServer.certSANs) ? apiServer.certSANs.map(String) : [],
    apiServerExtraArgs: extraArgs(apiServer.extraArgs),
    etcdExtraArgs: extraArgs(etcdLocal.extraArgs),
    etcdDataDir: str(etcdLocal.dataDir) ?? KUBE.etcdData,
    encryptionAlgorithm: algorithm as EncryptionAlgorithm,
    certificateValidityMs: duration(doc?.certificateValidityPeriod, YEAR_MS),
    caCertificateValidityMs: duration(doc?.caCertificateValidityPeriod, 10 * YEAR_MS),
    imageRepository: str(doc?.imageRepository) ?? 'registry.k8s.io',
  };
}

/** The ClusterConfiguration as kubeadm uploads it (v1beta4, defaulted) into ConfigMap kubeadm-config. */
export function renderClusterConfiguration(c: ClusterConfig): string {
  const doc: Record<string, unknown> = {
    apiServer: {
      ...(c.certSANs.length ? { certSANs: c.certSANs } : {}),
      ...(Object.keys(c.apiServerExtraArgs).length ? { extraArgs: Object.entries(c.apiServerExtraArgs).map(([name, value]) => ({ name, value })) } : {}),
    },
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    caCertificateValidityPeriod: `${Math.round(c.caCertificateValidityMs / 3600_000)}h0m0s`,
    certificateValidityPeriod: `${Math.round(c.certificateValidityMs / 3600_000)}h0m0s`,
    certificatesDir: c.certificatesDir,
    clusterName: c.clusterName,
    controlPlaneEndpoint: c.controlPlaneEndpoint || undefined,
    controllerManager: {},
    dns: {},
    encryptionAlgorithm: c.encryptionAlgorithm,
    etcd: { local: { dataDir: c.etcdDataDir } },
    imageRepository: c.imageRepository,
    kind: 'ClusterConfiguration',
    kubernetesVersion: c.kubernetesVersion,
    networking: { dnsDomain: c.dnsDomain, ...(c.podSubnet ? { podSubnet: c.podSubnet } : {}), serviceSubnet: c.serviceSubnet },
    proxy: {},
    scheduler: {},
  };
  return stringify(doc, { lineWidth: 0 });
}

function bootstrapTokens(value: unknown): BootstrapTokenSpec[] {
  if (!Array.isArray(value)) return [];
  return value.map((raw: Record<string, unknown>) => ({
    token: String(raw.token ?? ''),
    description: str(raw.description),
    ttlMs: duration(raw.ttl, DAY_MS),
    usages: Array.isArray(raw.usages) ? raw.usages.map(String) : ['signing', 'authentication'],
    groups: Array.isArray(raw.groups) ? raw.groups.map(String) : ['system:bootstrappers:kubeadm:default-node-token'],
  }));
}

/** kubeadm deploys control planes of its own minor and the one before (MinimumControlPlaneVersion). */
const MINIMUM_CONTROL_PLANE_VERSION = '1.36.0';

function checkControlPlaneVersion(version: string): void {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  const [minMajor, minMinor] = MINIMUM_CONTROL_PLANE_VERSION.split('.').map(Number);
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    throw new KubeadmError(
      `this version of kubeadm only supports deploying clusters with the control plane version >= ${MINIMUM_CONTROL_PLANE_VERSION}. Current version: ${version}`,
    );
  }
}

/** InitConfiguration + ClusterConfiguration from a file (either may be absent: defaults apply). */
export function initConfigFromDocs(docs: Map<string, Record<string, unknown>>, defaultNodeName: string): InitConfig {
  const init = docs.get('InitConfiguration');
  const cluster = clusterConfig(docs.get('ClusterConfiguration'));
  checkControlPlaneVersion(cluster.kubernetesVersion);
  const endpoint = section(init, 'localAPIEndpoint');
  const registration = section(init, 'nodeRegistration');
  return {
    nodeName: str(registration.name) ?? defaultNodeName,
    criSocket: str(registration.criSocket) ?? DEFAULT_CRI_SOCKET,
    ignorePreflightErrors: Array.isArray(registration.ignorePreflightErrors) ? registration.ignorePreflightErrors.map(String) : [],
    advertiseAddress: str(endpoint.advertiseAddress),
    bindPort: typeof endpoint.bindPort === 'number' ? endpoint.bindPort : 6443,
    bootstrapTokens: bootstrapTokens(init?.bootstrapTokens),
    certificateKey: str(init?.certificateKey),
    taints: Array.isArray(registration.taints) ? registration.taints : undefined,
    cluster,
  };
}

/** JoinConfiguration from a file. */
export function joinConfigFromDocs(docs: Map<string, Record<string, unknown>>, defaultNodeName: string): JoinConfig {
  const join = docs.get('JoinConfiguration');
  if (!join) throw new UsageError('no JoinConfiguration kind was found in the YAML file');
  const discovery = section(join, 'discovery');
  const bootstrap = section(discovery, 'bootstrapToken');
  const registration = section(join, 'nodeRegistration');
  const controlPlane = join.controlPlane && typeof join.controlPlane === 'object' ? (join.controlPlane as Record<string, unknown>) : undefined;
  const timeouts = section(join, 'timeouts');
  const apiServerEndpoint = str(bootstrap.apiServerEndpoint);
  const token = str(bootstrap.token) ?? str(discovery.tlsBootstrapToken);
  if (!apiServerEndpoint || !token) throw new UsageError('discovery.bootstrapToken: Invalid value: "": bootstrapToken or file must be set');
  const localEndpoint = section(controlPlane, 'localAPIEndpoint');
  return {
    nodeName: str(registration.name) ?? defaultNodeName,
    criSocket: str(registration.criSocket) ?? DEFAULT_CRI_SOCKET,
    ignorePreflightErrors: Array.isArray(registration.ignorePreflightErrors) ? registration.ignorePreflightErrors.map(String) : [],
    apiServerEndpoint,
    token,
    caCertHashes: Array.isArray(bootstrap.caCertHashes) ? bootstrap.caCertHashes.map(String) : [],
    unsafeSkipCAVerification: bootstrap.unsafeSkipCAVerification === true,
    discoveryTimeoutMs: duration(timeouts.discovery ?? discovery.timeout, 5 * 60_000),
    etcdApiCallTimeoutMs: duration(timeouts.etcdAPICall, 2 * 60_000),
    controlPlane: controlPlane
      ? {
          certificateKey: str(controlPlane.certificateKey),
          advertiseAddress: str(localEndpoint.advertiseAddress),
          bindPort: typeof localEndpoint.bindPort === 'number' ? localEndpoint.bindPort : 6443,
        }
      : undefined,
  };
}

/** `host:port` split (IPv6 in brackets). */
export function splitHostPort(endpoint: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint);
  if (!match) return { host: endpoint, port: 6443 };
  return { host: match[1], port: Number(match[2]) };
}
