/**
 * What kubeha accepts as a cluster's admin.conf when it copies it from a host: exactly what kubeadm
 * writes (server over https, embedded CA, embedded client certificate and key), with the CA the
 * cluster's recorded hash pins. A host is not trusted to hand the worker a kubeconfig that runs code
 * (exec and auth-provider plugins), reads the worker's files, or turns TLS verification off.
 */
import { parse } from 'yaml';
import { caCertHash } from './pki';

/** Keys of a kubeconfig user kubeha refuses in a host's admin.conf. */
const FORBIDDEN_USER_KEYS = [
  'exec',
  'auth-provider',
  'token',
  'tokenFile',
  'token-file',
  'client-certificate',
  'client-key',
  'username',
  'password',
  'as',
  'impersonate',
];
/** Keys of a kubeconfig cluster kubeha refuses in a host's admin.conf. */
const FORBIDDEN_CLUSTER_KEYS = ['certificate-authority', 'insecure-skip-tls-verify', 'proxy-url'];

type Named = { name?: unknown; cluster?: Record<string, unknown>; user?: Record<string, unknown>; context?: Record<string, unknown> };

function entries(file: Record<string, unknown>, key: string): Named[] {
  const list = file[key];
  return Array.isArray(list) ? (list as Named[]).filter((e) => e && typeof e === 'object') : [];
}

function decodedPem(data: unknown): string | undefined {
  if (typeof data !== 'string' || !data) return undefined;
  return Buffer.from(data, 'base64').toString('utf8');
}

/**
 * The reason `text` is not an admin.conf kubeha accepts for a cluster whose CA hash is `caHash`, or
 * undefined when it is acceptable. Reasons name the field and the rule, never a value.
 */
export function adminConfProblem(text: string, caHash: string): string | undefined {
  let file: unknown;
  try {
    file = parse(text);
  } catch {
    return 'it is not valid YAML';
  }
  if (!file || typeof file !== 'object' || Array.isArray(file)) return 'it is not a kubeconfig';
  const doc = file as Record<string, unknown>;
  const clusters = entries(doc, 'clusters');
  const users = entries(doc, 'users');
  if (clusters.length === 0 || users.length === 0) return 'it has no clusters or no users';
  for (const { name, user } of users) {
    const bad = FORBIDDEN_USER_KEYS.find((k) => user && k in user);
    if (bad) return `user "${String(name)}" has "${bad}" (only embedded client-certificate-data and client-key-data are accepted)`;
    if (!user?.['client-certificate-data'] || !user['client-key-data'])
      return `user "${String(name)}" lacks embedded client-certificate-data and client-key-data`;
  }
  for (const { name, cluster } of clusters) {
    const bad = FORBIDDEN_CLUSTER_KEYS.find((k) => cluster && k in cluster);
    if (bad) return `cluster "${String(name)}" has "${bad}" (only an embedded certificate-authority-data is accepted)`;
    if (typeof cluster?.server !== 'string' || !/^https:\/\//i.test(cluster.server)) return `cluster "${String(name)}" is not served over https`;
    const pem = decodedPem(cluster['certificate-authority-data']);
    if (!pem) return `cluster "${String(name)}" lacks an embedded certificate-authority-data`;
    let hash: string;
    try {
      hash = caCertHash(pem);
    } catch {
      return `cluster "${String(name)}" has a certificate-authority-data that is not a certificate`;
    }
    if (hash !== caHash) return `cluster "${String(name)}" has a CA whose hash is not the cluster's recorded ${caHash}`;
  }
  return undefined;
}
