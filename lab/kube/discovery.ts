/**
 * Token discovery as kubeadm does it (cmd/kubeadm/app/discovery/token): fetch cluster-info
 * without verifying TLS, wait for the token's JWS signature, check it, pin the CA by its public key
 * hash, then fetch cluster-info again over TLS verified by that CA and compare.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { JWS_PREFIX, signatureIsValid, splitToken } from './bootstrap';
import { KubeClient, type KubeObject } from './client';
import { KubeadmError } from './errors';
import { parseKubeconfig } from './kubeconfig';
import { caCertHash } from './pki';

/** What discovery yields: the API endpoint and the cluster CA it trusts. */
export interface DiscoveredCluster {
  server: string;
  caPem: string;
  clusterName: string;
}

const RETRY_INTERVAL_MS = 5000;

async function clusterInfo(client: KubeClient, tokenId: string, timeoutMs: number, log: (line: string) => void): Promise<KubeObject> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      // kubeadm's bootstrap client sets a 10 s timeout, which client-go sends as the timeout parameter.
      const cm = await client.get('/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s');
      if ((cm.data as Record<string, string> | undefined)?.[`${JWS_PREFIX}${tokenId}`]) return cm;
      lastError = `could not find a JWS signature in the cluster-info ConfigMap for token ID "${tokenId}"`;
    } catch (err) {
      lastError = `failed to request the cluster-info ConfigMap: ${(err as Error).message}`;
    }
    log(`[discovery] Retrying due to error: ${lastError}`);
    if (Date.now() + Math.min(RETRY_INTERVAL_MS, timeoutMs) > deadline) throw new KubeadmError(lastError);
    await sleep(Math.min(RETRY_INTERVAL_MS, Math.max(100, deadline - Date.now())));
  }
}

/** Runs discovery against `endpoint` (host:port) with the token and CA pins. */
export async function discover(options: {
  endpoint: string;
  token: string;
  caCertHashes: string[];
  unsafeSkipCAVerification: boolean;
  timeoutMs: number;
  log: (line: string) => void;
}): Promise<DiscoveredCluster> {
  const { endpoint, token, caCertHashes, timeoutMs, log } = options;
  const parts = splitToken(token);
  if (!parts) throw new KubeadmError(`the bootstrap token "${token.replace(/\..*/, '.<redacted>')}" was not of the form "^([a-z0-9]{6})\\.([a-z0-9]{16})$"`);
  for (const hash of caCertHashes) {
    if (!/^sha256:[0-9a-f]{64}$/.test(hash))
      throw new KubeadmError(`invalid discovery token CA certificate hash: invalid hash "${hash}", expected a "sha256" hash`);
  }
  if (caCertHashes.length === 0 && !options.unsafeSkipCAVerification) {
    throw new KubeadmError(
      'discovery.bootstrapToken: Invalid value: "": using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue',
    );
  }
  const server = `https://${endpoint}`;
  const insecure = new KubeClient({ server, insecure: true, user: {}, clusterName: 'kubernetes', userName: 'token-bootstrap-client' });
  const first = await clusterInfo(insecure, parts.id, timeoutMs, log);
  const data = first.data as Record<string, string>;
  const kubeconfig = data.kubeconfig;
  if (!kubeconfig)
    throw new KubeadmError("there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set up for token bootstrapping, can't connect");
  if (!signatureIsValid(data[`${JWS_PREFIX}${parts.id}`], kubeconfig, parts.id, parts.secret)) {
    throw new KubeadmError("failed to verify JWS signature of received cluster info object, can't trust this API Server");
  }
  const parsed = parseKubeconfig(kubeconfig);
  const caPem = parsed.caPem ?? '';
  if (caCertHashes.length === 0) return { server, caPem, clusterName: parsed.clusterName || 'kubernetes' };
  const actual = caCertHash(caPem);
  if (!caCertHashes.includes(actual)) {
    throw new KubeadmError(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${actual}" are pinned`);
  }
  const secure = new KubeClient({ server, caPem, user: {}, clusterName: 'kubernetes', userName: 'token-bootstrap-client' });
  const second = await clusterInfo(secure, parts.id, timeoutMs, log);
  if ((second.data as Record<string, string>).kubeconfig !== kubeconfig) {
    throw new KubeadmError('the second kubeconfig from the cluster-info ConfigMap (using validated TLS) was different from the first');
  }
  return { server, caPem, clusterName: parsed.clusterName || 'kubernetes' };
}
