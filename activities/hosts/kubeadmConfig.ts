/**
 * kubeadm configuration files. Secrets (bootstrap token, certificate key) go into these files,
 * written 0600 on the host, never onto a command line: kubeadm refuses `--certificate-key` next
 * to `--config`, and a file keeps them out of `ps`.
 */
import { parseAllDocuments, stringify } from 'yaml';

/** The containerd socket the prepare script sets up. */
export const CRI_SOCKET = 'unix:///var/run/containerd/containerd.sock';
/** The API server's port on every control-plane host. */
export const API_SERVER_PORT = 6443;

/** `v1.31.2` from `1.31.2` or `v1.31.2`. */
export function normalizeKubernetesVersion(version: string): string {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version.trim());
  if (!match) throw new Error(`Kubernetes version "${version}" must look like 1.31.2`);
  return `v${match[1]}.${match[2]}.${match[3]}`;
}

/** The minor version, `1.31` of `v1.31.2`. */
export function minorVersion(version: string): string {
  return normalizeKubernetesVersion(version).slice(1).split('.').slice(0, 2).join('.');
}

/** kubeadm.k8s.io/v1beta4 from Kubernetes 1.31 on (where it was introduced), v1beta3 before. */
export function kubeadmApiVersion(kubernetesVersion: string): string {
  const minor = Number(minorVersion(kubernetesVersion).split('.')[1]);
  return minor >= 31 ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';
}

/** What the first control plane's configuration needs. */
export interface InitConfigInput {
  clusterName: string;
  nodeName: string;
  advertiseAddress: string;
  controlPlaneEndpoint: string;
  kubernetesVersion: string;
  podSubnet: string;
  serviceSubnet: string;
  /** The bootstrap token init creates (24 h). */
  token: string;
  /** The key init encrypts the uploaded certificates with. */
  certificateKey: string;
}

function documents(...docs: object[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/** InitConfiguration + ClusterConfiguration for `kubeadm init --config F --upload-certs`. */
export function renderInitConfig(input: InitConfigInput): string {
  const apiVersion = kubeadmApiVersion(input.kubernetesVersion);
  return documents(
    {
      apiVersion,
      kind: 'InitConfiguration',
      bootstrapTokens: [
        {
          token: input.token,
          description: 'kubeha join token',
          ttl: '24h0m0s',
          usages: ['signing', 'authentication'],
          groups: ['system:bootstrappers:kubeadm:default-node-token'],
        },
      ],
      certificateKey: input.certificateKey,
      localAPIEndpoint: { advertiseAddress: input.advertiseAddress, bindPort: API_SERVER_PORT },
      nodeRegistration: { name: input.nodeName, criSocket: CRI_SOCKET },
    },
    {
      apiVersion,
      kind: 'ClusterConfiguration',
      clusterName: input.clusterName,
      kubernetesVersion: normalizeKubernetesVersion(input.kubernetesVersion),
      controlPlaneEndpoint: input.controlPlaneEndpoint,
      networking: { podSubnet: input.podSubnet, serviceSubnet: input.serviceSubnet },
    },
  );
}

/** What a joining node's configuration needs. */
export interface JoinConfigInput {
  kubernetesVersion: string;
  nodeName: string;
  apiServerEndpoint: string;
  token: string;
  caCertHash: string;
  /** Set for control-plane joins (with `advertiseAddress`). */
  controlPlane?: { certificateKey: string; advertiseAddress: string };
}

/** JoinConfiguration for `kubeadm join --config F`. */
export function renderJoinConfig(input: JoinConfigInput): string {
  const config: Record<string, unknown> = {
    apiVersion: kubeadmApiVersion(input.kubernetesVersion),
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: { token: input.token, apiServerEndpoint: input.apiServerEndpoint, caCertHashes: [input.caCertHash] },
    },
    nodeRegistration: { name: input.nodeName, criSocket: CRI_SOCKET },
  };
  if (input.controlPlane) {
    config.controlPlane = {
      certificateKey: input.controlPlane.certificateKey,
      localAPIEndpoint: { advertiseAddress: input.controlPlane.advertiseAddress, bindPort: API_SERVER_PORT },
    };
  }
  return documents(config);
}

/**
 * The file for `kubeadm init phase upload-certs --upload-certs --config F` on a running cluster:
 * an InitConfiguration carrying the new certificate key, and the cluster's own
 * ClusterConfiguration (from ConfigMap kube-system/kubeadm-config), so kubeadm neither guesses a
 * version from the internet nor disagrees with the cluster about certificate paths.
 */
export function renderUploadCertsConfig(input: { clusterConfiguration: string; certificateKey: string; nodeName: string }): string {
  const [doc] = parseAllDocuments(input.clusterConfiguration);
  const cluster = doc?.toJS() as Record<string, unknown> | null | undefined;
  if (!cluster || typeof cluster !== 'object' || (cluster.kind !== undefined && cluster.kind !== 'ClusterConfiguration')) {
    throw new Error("the cluster's kubeadm-config ConfigMap has no ClusterConfiguration document");
  }
  const apiVersion =
    typeof cluster.apiVersion === 'string' && cluster.apiVersion.startsWith('kubeadm.k8s.io/')
      ? cluster.apiVersion
      : kubeadmApiVersion(String(cluster.kubernetesVersion ?? 'v1.31.0'));
  return documents(
    { apiVersion, kind: 'InitConfiguration', certificateKey: input.certificateKey, nodeRegistration: { name: input.nodeName, criSocket: CRI_SOCKET } },
    { ...cluster, apiVersion, kind: 'ClusterConfiguration' },
  );
}

/** Parses a multi-document kubeadm config back into objects (tests, and checks of files read back). */
export function parseKubeadmConfig(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`invalid YAML: ${d.errors[0].message}`);
    return d.toJS() as Record<string, unknown>;
  });
}
