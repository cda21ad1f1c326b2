/**
 * What `kubeadm join` is asked to do: its flags, and the join configuration read from `--config` or
 * built from those flags, as kubeadm does.
 */
import { flag, flagList, flagSet, type ParsedArgs, rejectMixedWithConfig, UsageError } from './args';
import { DEFAULT_CRI_SOCKET, type JoinConfig, joinConfigFromDocs } from './config';
import { readConfigDocuments } from './configFile';
import type { HostEnv } from './env';

/** The flags `kubeadm join` accepts. */
export const JOIN_FLAGS = {
  booleans: ['control-plane', 'discovery-token-unsafe-skip-ca-verification', 'dry-run'],
  values: [
    'config',
    'apiserver-advertise-address',
    'apiserver-bind-port',
    'certificate-key',
    'cri-socket',
    'discovery-file',
    'discovery-token',
    'discovery-token-ca-cert-hash',
    'ignore-preflight-errors',
    'node-name',
    'patches',
    'skip-phases',
    'tls-bootstrap-token',
    'token',
  ],
};

/** The join configuration from `--config` or the flags. */
export function joinConfiguration(args: ParsedArgs, host: HostEnv): JoinConfig {
  rejectMixedWithConfig(args, ['ignore-preflight-errors', 'skip-phases', 'dry-run', 'cri-socket']);
  const file = flag(args, 'config');
  if (file) return joinConfigFromDocs(readConfigDocuments(file), host.hostName);
  const endpoint = args.positional[0];
  const token = flag(args, 'discovery-token') ?? flag(args, 'token');
  if (!endpoint || !token) throw new UsageError('discovery.bootstrapToken: Invalid value: "": bootstrapToken or file must be set');
  const controlPlane = flagSet(args, 'control-plane');
  return {
    nodeName: flag(args, 'node-name') ?? host.hostName,
    criSocket: flag(args, 'cri-socket') ?? DEFAULT_CRI_SOCKET,
    ignorePreflightErrors: [],
    apiServerEndpoint: endpoint,
    token,
    caCertHashes: flagList(args, 'discovery-token-ca-cert-hash'),
    unsafeSkipCAVerification: flagSet(args, 'discovery-token-unsafe-skip-ca-verification'),
    discoveryTimeoutMs: 5 * 60_000,
    etcdApiCallTimeoutMs: 2 * 60_000,
    controlPlane: controlPlane
      ? {
          certificateKey: flag(args, 'certificate-key'),
          advertiseAddress: flag(args, 'apiserver-advertise-address'),
          bindPort: Number(flag(args, 'apiserver-bind-port') ?? 6443),
        }
      : undefined,
  };
}
