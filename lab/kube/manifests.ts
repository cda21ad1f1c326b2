/**
 * The static Pod manifests kubeadm writes to /etc/kubernetes/manifests, with the real flags of
 * the real binaries. Lab difference: every host shares the machine's loopback network, so etcd
 * and kube-apiserver listen on the host's own address only (kubeadm also binds etcd to
 * 127.0.0.1:2379, which hosts on one machine cannot share), and kube-apiserver reaches etcd there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { ClusterConfig } from './config';
import { ETCD_IMAGE_TAG, KUBE } from './env';

/** The annotation kubeadm puts on the etcd Pod with the member's client URL (the lab's etcdctl reads it too). */
export const ETCD_CLIENT_URLS_ANNOTATION = 'kubeadm.kubernetes.io/etcd.advertise-client-urls';
export const APISERVER_ENDPOINT_ANNOTATION = 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint';

/** The parts of a Pod manifest the lab kubelet uses. */
export interface StaticPod {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: { name: string; image: string; command?: string[]; args?: string[] }[] };
}

function hostPathVolume(name: string, hostPath: string, type: string): Record<string, unknown> {
  return { hostPath: { path: hostPath, type }, name };
}

function pod(
  name: string,
  component: string,
  annotations: Record<string, string>,
  command: string[],
  image: string,
  mounts: { name: string; path: string; readOnly?: boolean; type: string }[],
  probePort: number,
  probeHost: string,
  probeScheme: string,
  probePath: string,
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { annotations, labels: { component, tier: 'control-plane' }, name, namespace: 'kube-system' },
    spec: {
      containers: [
        {
          command,
          image,
          imagePullPolicy: 'IfNotPresent',
          livenessProbe: {
            failureThreshold: 8,
            httpGet: { host: probeHost, path: probePath, port: probePort, scheme: probeScheme },
            initialDelaySeconds: 10,
            periodSeconds: 10,
            timeoutSeconds: 15,
          },
          name,
          resources: { requests: { cpu: component === 'etcd' ? '100m' : '250m', ...(component === 'etcd' ? { memory: '100Mi' } : {}) } },
          volumeMounts: mounts.map((m) => ({ mountPath: m.path, name: m.name, ...(m.readOnly ? { readOnly: true } : {}) })),
        },
      ],
      hostNetwork: true,
      priority: 2000001000,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      volumes: mounts.map((m) => hostPathVolume(m.name, m.path, m.type)),
    },
    status: {},
  };
}

/** What the etcd manifest needs. */
export interface EtcdManifestInput {
  cluster: ClusterConfig;
  nodeName: string;
  address: string;
  /** `name=https://addr:2380,...`; only this member for a new cluster. */
  initialCluster?: string;
  /** Joining an existing cluster. */
  existing?: boolean;
}

/** The etcd static Pod (flags valid for etcd 3.4 as Debian ships it, and 3.5). */
export function etcdManifest(input: EtcdManifestInput): Record<string, unknown> {
  const { cluster, nodeName, address } = input;
  const pki = `${cluster.certificatesDir}/etcd`;
  const flags: Record<string, string> = {
    'advertise-client-urls': `https://${address}:2379`,
    'cert-file': `${pki}/server.crt`,
    'client-cert-auth': 'true',
    'data-dir': cluster.etcdDataDir,
    'experimental-initial-corrupt-check': 'true',
    'experimental-watch-progress-notify-interval': '5s',
    'initial-advertise-peer-urls': `https://${address}:2380`,
    'initial-cluster': input.initialCluster ?? `${nodeName}=https://${address}:2380`,
    ...(input.existing ? { 'initial-cluster-state': 'existing' } : {}),
    'key-file': `${pki}/server.key`,
    'listen-client-urls': `https://${address}:2379`,
    'listen-metrics-urls': `http://${address}:2381`,
    'listen-peer-urls': `https://${address}:2380`,
    name: nodeName,
    'peer-cert-file': `${pki}/peer.crt`,
    'peer-client-cert-auth': 'true',
    'peer-key-file': `${pki}/peer.key`,
    'peer-trusted-ca-file': `${pki}/ca.crt`,
    'snapshot-count': '10000',
    'trusted-ca-file': `${pki}/ca.crt`,
    ...cluster.etcdExtraArgs,
  };
  const command = [
    'etcd',
    ...Object.keys(flags)
      .sort()
      .map((k) => `--${k}=${flags[k]}`),
  ];
  return pod(
    'etcd',
    'etcd',
    { [ETCD_CLIENT_URLS_ANNOTATION]: `https://${address}:2379` },
    command,
    `${cluster.imageRepository}/etcd:${ETCD_IMAGE_TAG}`,
    [
      { name: 'etcd-certs', path: pki, type: 'DirectoryOrCreate' },
      { name: 'etcd-data', path: cluster.etcdDataDir, type: 'DirectoryOrCreate' },
    ],
    2381,
    address,
    'HTTP',
    '/livez',
  );
}

/** The kube-apiserver static Pod. */
export function apiServerManifest(input: { cluster: ClusterConfig; address: string; bindPort: number }): Record<string, unknown> {
  const { cluster, address, bindPort } = input;
  const pki = cluster.certificatesDir;
  const flags: Record<string, string> = {
    'advertise-address': address,
    'allow-privileged': 'true',
    'authorization-mode': 'Node,RBAC',
    'bind-address': address,
    'client-ca-file': `${pki}/ca.crt`,
    'enable-admission-plugins': 'NodeRestriction',
    'enable-bootstrap-token-auth': 'true',
    // Lab: the kubernetes Service endpoint reconciler refuses loopback advertise addresses.
    'endpoint-reconciler-type': 'none',
    'etcd-cafile': `${pki}/etcd/ca.crt`,
    'etcd-certfile': `${pki}/apiserver-etcd-client.crt`,
    'etcd-keyfile': `${pki}/apiserver-etcd-client.key`,
    'etcd-servers': `https://${address}:2379`,
    'kubelet-client-certificate': `${pki}/apiserver-kubelet-client.crt`,
    'kubelet-client-key': `${pki}/apiserver-kubelet-client.key`,
    'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
    'proxy-client-cert-file': `${pki}/front-proxy-client.crt`,
    'proxy-client-key-file': `${pki}/front-proxy-client.key`,
    'requestheader-allowed-names': 'front-proxy-client',
    'requestheader-client-ca-file': `${pki}/front-proxy-ca.crt`,
    'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
    'requestheader-group-headers': 'X-Remote-Group',
    'requestheader-username-headers': 'X-Remote-User',
    'secure-port': String(bindPort),
    'service-account-issuer': `https://kubernetes.default.svc.${cluster.dnsDomain}`,
    'service-account-key-file': `${pki}/sa.pub`,
    'service-account-signing-key-file': `${pki}/sa.key`,
    'service-cluster-ip-range': cluster.serviceSubnet,
    'tls-cert-file': `${pki}/apiserver.crt`,
    'tls-private-key-file': `${pki}/apiserver.key`,
    ...cluster.apiServerExtraArgs,
  };
  const command = [
    'kube-apiserver',
    ...Object.keys(flags)
      .sort()
      .map((k) => `--${k}=${flags[k]}`),
  ];
  return pod(
    'kube-apiserver',
    'kube-apiserver',
    { [APISERVER_ENDPOINT_ANNOTATION]: `${address}:${bindPort}` },
    command,
    `${cluster.imageRepository}/kube-apiserver:${cluster.kubernetesVersion}`,
    [
      { name: 'ca-certs', path: '/etc/ssl/certs', readOnly: true, type: 'DirectoryOrCreate' },
      { name: 'k8s-certs', path: pki, readOnly: true, type: 'DirectoryOrCreate' },
    ],
    bindPort,
    address,
    'HTTPS',
    '/livez',
  );
}

/** Renders a manifest as kubeadm writes it. */
export function renderManifest(manifest: Record<string, unknown>): string {
  return stringify(manifest, { lineWidth: 0 });
}

/** The path of a component's manifest. */
export function manifestPath(component: 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler'): string {
  return path.join(KUBE.manifests, `${component}.yaml`);
}

/** Reads a static Pod manifest. */
export function readManifest(file: string): StaticPod {
  return parse(readFileSync(file, 'utf8')) as StaticPod;
}
