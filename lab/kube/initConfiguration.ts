/**
 * What `kubeadm init` is asked to do: its flags, and the init configuration read from `--config` or
 * built from those flags, as kubeadm does.
 */
import { flag, flagList, type ParsedArgs, parseDuration, rejectMixedWithConfig } from './args';
import { DEFAULT_TOKEN_GROUP } from './bootstrap';
import { type BootstrapTokenSpec, clusterConfig, DEFAULT_CRI_SOCKET, type InitConfig, initConfigFromDocs } from './config';
import { readConfigDocuments } from './configFile';
import type { HostEnv } from './env';

/** The flags `kubeadm init` accepts. */
export const INIT_FLAGS = {
  booleans: ['upload-certs', 'dry-run', 'skip-token-print', 'skip-certificate-key-print'],
  values: [
    'config',
    'certificate-key',
    'control-plane-endpoint',
    'apiserver-advertise-address',
    'apiserver-bind-port',
    'apiserver-cert-extra-sans',
    'cert-dir',
    'cri-socket',
    'feature-gates',
    'ignore-preflight-errors',
    'image-repository',
    'kubernetes-version',
    'node-name',
    'patches',
    'pod-network-cidr',
    'service-cidr',
    'service-dns-domain',
    'skip-phases',
    'token',
    'token-ttl',
  ],
};

/** The configuration from `--config` or the flags. */
export function initConfiguration(args: ParsedArgs, host: HostEnv): InitConfig {
  rejectMixedWithConfig(args, [
    'upload-certs',
    'ignore-preflight-errors',
    'skip-phases',
    'dry-run',
    'skip-token-print',
    'skip-certificate-key-print',
    'cri-socket',
  ]);
  const configFile = flag(args, 'config');
  if (configFile) return initConfigFromDocs(readConfigDocuments(configFile), host.hostName);
  const cluster = clusterConfig({
    controlPlaneEndpoint: flag(args, 'control-plane-endpoint'),
    kubernetesVersion: flag(args, 'kubernetes-version'),
    networking: { podSubnet: flag(args, 'pod-network-cidr'), serviceSubnet: flag(args, 'service-cidr'), dnsDomain: flag(args, 'service-dns-domain') },
    apiServer: { certSANs: flagList(args, 'apiserver-cert-extra-sans') },
    certificatesDir: flag(args, 'cert-dir'),
    imageRepository: flag(args, 'image-repository'),
  });
  const token = flag(args, 'token');
  const tokens: BootstrapTokenSpec[] = [
    {
      token: token ?? '',
      ttlMs: flag(args, 'token-ttl') ? parseDuration(flag(args, 'token-ttl')!) : 24 * 3600_000,
      usages: ['signing', 'authentication'],
      groups: [DEFAULT_TOKEN_GROUP],
    },
  ];
  return {
    nodeName: flag(args, 'node-name') ?? host.hostName,
    criSocket: flag(args, 'cri-socket') ?? DEFAULT_CRI_SOCKET,
    ignorePreflightErrors: [],
    advertiseAddress: flag(args, 'apiserver-advertise-address'),
    bindPort: Number(flag(args, 'apiserver-bind-port') ?? 6443),
    bootstrapTokens: tokens,
    certificateKey: flag(args, 'certificate-key'),
    cluster,
  };
}
