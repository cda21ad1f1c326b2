/**
 * Bootstrap tokens as k8s.io/cluster-bootstrap defines them: the Secret
 * kube-system/bootstrap-token-<id>, the ConfigMap kube-public/cluster-info with its detached JWS
 * signatures (`jws-kubeconfig-<id>`), and the RBAC kubeadm creates so that tokens can discover the
 * cluster, read kubeadm's config and certificates, and post CSRs.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { ApiError, type KubeClient, type KubeObject } from './client';

export const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const DEFAULT_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
export const JWS_PREFIX = 'jws-kubeconfig-';

/** A random token `[a-z0-9]{6}.[a-z0-9]{16}` (bootstraputil.GenerateBootstrapToken). */
export function generateToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/** Splits a token; undefined when malformed. */
export function splitToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { id: match[1], secret: match[2] } : undefined;
}

/** Go's time.RFC3339 of a UTC instant (no fractional seconds). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** What a bootstrap token Secret holds. */
export interface TokenOptions {
  token: string;
  description?: string;
  /** 0 = never expires. */
  ttlMs: number;
  usages: string[];
  groups: string[];
}

/** The Secret kube-system/bootstrap-token-<id> (type bootstrap.kubernetes.io/token). */
export function tokenSecret(options: TokenOptions, now = new Date()): KubeObject {
  const parts = splitToken(options.token);
  if (!parts) throw new Error('the bootstrap token does not match [a-z0-9]{6}.[a-z0-9]{16}');
  const data: Record<string, string> = { 'token-id': parts.id, 'token-secret': parts.secret };
  if (options.description) data.description = options.description;
  if (options.ttlMs > 0) data.expiration = rfc3339(new Date(now.getTime() + options.ttlMs));
  for (const usage of options.usages) data[`usage-bootstrap-${usage}`] = 'true';
  if (options.groups.length > 0) data['auth-extra-groups'] = options.groups.join(',');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${parts.id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** Creates or replaces a token's Secret (kubeadm token create / init's bootstrap-token phase). */
export async function createTokenSecret(client: KubeClient, options: TokenOptions, now = new Date()): Promise<KubeObject> {
  return client.createOrUpdate('/api/v1/namespaces/kube-system/secrets', tokenSecret(options, now));
}

/** A token Secret's fields, decoded. */
export interface TokenInfo {
  id: string;
  secret: string;
  expiration?: Date;
  usages: string[];
  groups: string[];
  description?: string;
}

/** Reads a bootstrap token Secret. */
export function decodeTokenSecret(secret: KubeObject): TokenInfo | undefined {
  const data = (secret.data ?? {}) as Record<string, string>;
  const get = (k: string): string | undefined => (data[k] === undefined ? undefined : Buffer.from(data[k], 'base64').toString('utf8'));
  const id = get('token-id');
  const tokenSecretValue = get('token-secret');
  if (!id || !tokenSecretValue) return undefined;
  const expiration = get('expiration');
  return {
    id,
    secret: tokenSecretValue,
    expiration: expiration ? new Date(expiration) : undefined,
    usages: Object.keys(data)
      .filter((k) => k.startsWith('usage-bootstrap-') && get(k) === 'true')
      .map((k) => k.slice('usage-bootstrap-'.length)),
    groups: (get('auth-extra-groups') ?? '').split(',').filter((g) => g !== ''),
    description: get('description'),
  };
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** The detached JWS (`header..signature`, HS256, kid = token id) the bootstrap signer puts into cluster-info. */
export function detachedSignature(content: string, tokenId: string, secret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const signature = createHmac('sha256', secret)
    .update(`${header}.${b64url(content)}`)
    .digest();
  return `${header}..${b64url(signature)}`;
}

/** Whether a detached JWS signs `content` with this token (jws.DetachedTokenIsValid). */
export function signatureIsValid(detached: string, content: string, tokenId: string, secret: string): boolean {
  const [header, empty, signature] = detached.split('.');
  if (empty !== '' || !header || !signature) return false;
  let parsed: { alg?: string; kid?: string };
  try {
    parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  if (parsed.alg !== 'HS256' || parsed.kid !== tokenId) return false;
  const expected = createHmac('sha256', secret)
    .update(`${header}.${b64url(content)}`)
    .digest();
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const CLUSTER_INFO = '/api/v1/namespaces/kube-public/configmaps/cluster-info';

/** Creates kube-public/cluster-info with the cluster kubeconfig (kept when it exists). */
export async function ensureClusterInfo(client: KubeClient, kubeconfig: string): Promise<void> {
  await client.createIfMissing('/api/v1/namespaces/kube-public/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cluster-info', namespace: 'kube-public' },
    data: { kubeconfig },
  });
}

/**
 * Brings the JWS signatures of cluster-info in line with the signing tokens that exist and have not
 * expired: what the bootstrap signer controller of kube-controller-manager does (the lab has none,
 * so kubeadm and the lab controller call this after changing tokens). Both may write at once: a
 * conflicting write reads cluster-info again, as a controller's next sync would.
 */
export async function syncClusterInfoSignatures(client: KubeClient, now = new Date(), attempts = 3): Promise<void> {
  const cm = await client.find(CLUSTER_INFO);
  if (!cm) return;
  const data = { ...((cm.data ?? {}) as Record<string, string>) };
  const content = data.kubeconfig;
  if (!content) return;
  const list = await client.get<{ items: KubeObject[] }>('/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken');
  const wanted: Record<string, string> = {};
  for (const item of list.items) {
    const info = decodeTokenSecret(item);
    if (!info || !info.usages.includes('signing')) continue;
    if (info.expiration && info.expiration.getTime() <= now.getTime()) continue;
    wanted[`${JWS_PREFIX}${info.id}`] =
      data[`${JWS_PREFIX}${info.id}`] && signatureIsValid(data[`${JWS_PREFIX}${info.id}`], content, info.id, info.secret)
        ? data[`${JWS_PREFIX}${info.id}`]
        : detachedSignature(content, info.id, info.secret);
  }
  const current = Object.fromEntries(Object.entries(data).filter(([k]) => k.startsWith(JWS_PREFIX)));
  const same = Object.keys(current).length === Object.keys(wanted).length && Object.entries(wanted).every(([k, v]) => current[k] === v);
  if (same) return;
  const next: Record<string, string> = Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith(JWS_PREFIX)));
  try {
    await client.put(CLUSTER_INFO, { ...cm, data: { ...next, ...wanted } });
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && attempts > 1) return syncClusterInfoSignatures(client, now, attempts - 1);
    throw err;
  }
}

function role(namespace: string, name: string, rules: unknown[]): KubeObject {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules };
}

function roleBinding(namespace: string, name: string, roleName: string, subjects: { kind: string; name: string }[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: subjects.map((s) => ({ ...s, ...(s.kind === 'ServiceAccount' ? {} : { apiGroup: 'rbac.authorization.k8s.io' }) })),
  };
}

function clusterRoleBinding(name: string, clusterRole: string, subjects: { kind: string; name: string }[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: subjects.map((s) => ({ ...s, apiGroup: 'rbac.authorization.k8s.io' })),
  };
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const tokenGroup = { kind: 'Group', name: DEFAULT_TOKEN_GROUP };

/** ClusterRoleBinding kubeadm:cluster-admins (admin.conf's group) → cluster-admin. */
export async function ensureClusterAdmins(client: KubeClient): Promise<void> {
  await client.createOrUpdate(
    `${RBAC}/clusterrolebindings`,
    clusterRoleBinding('kubeadm:cluster-admins', 'cluster-admin', [{ kind: 'Group', name: 'kubeadm:cluster-admins' }]),
  );
}

/** The RBAC of init's bootstrap-token phase; each step prints kubeadm's line. */
export async function ensureBootstrapRbac(client: KubeClient, log: (line: string) => void): Promise<void> {
  await client.createOrUpdate(`${RBAC}/clusterroles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kubeadm:get-nodes' },
    rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }],
  });
  await client.createOrUpdate(`${RBAC}/clusterrolebindings`, clusterRoleBinding('kubeadm:get-nodes', 'kubeadm:get-nodes', [tokenGroup]));
  log('[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes');
  await client.createOrUpdate(`${RBAC}/clusterrolebindings`, clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', [tokenGroup]));
  log('[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get long term certificate credentials');
  await client.createOrUpdate(
    `${RBAC}/clusterrolebindings`,
    clusterRoleBinding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [tokenGroup]),
  );
  log('[bootstrap-token] Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a Node Bootstrap Token');
  await client.createOrUpdate(
    `${RBAC}/clusterrolebindings`,
    clusterRoleBinding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [
      { kind: 'Group', name: 'system:nodes' },
    ]),
  );
  log('[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client certificates in the cluster');
  await client.createOrUpdate(
    `${RBAC}/namespaces/kube-public/roles`,
    role('kube-public', 'kubeadm:bootstrap-signer-clusterinfo', [
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] },
    ]),
  );
  await client.createOrUpdate(
    `${RBAC}/namespaces/kube-public/rolebindings`,
    roleBinding('kube-public', 'kubeadm:bootstrap-signer-clusterinfo', 'kubeadm:bootstrap-signer-clusterinfo', [{ kind: 'User', name: 'system:anonymous' }]),
  );
}

/** Role + RoleBinding that let tokens and nodes read a kube-system ConfigMap. */
export async function allowConfigMapRead(client: KubeClient, roleName: string, configMap: string): Promise<void> {
  await client.createOrUpdate(
    `${RBAC}/namespaces/kube-system/roles`,
    role('kube-system', roleName, [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [configMap], verbs: ['get'] }]),
  );
  await client.createOrUpdate(
    `${RBAC}/namespaces/kube-system/rolebindings`,
    roleBinding('kube-system', roleName, roleName, [{ kind: 'Group', name: 'system:nodes' }, tokenGroup]),
  );
}

/** Role + RoleBinding kubeadm:kubeadm-certs: tokens may read Secret kubeadm-certs. */
export async function allowKubeadmCertsRead(client: KubeClient): Promise<void> {
  await client.createOrUpdate(
    `${RBAC}/namespaces/kube-system/roles`,
    role('kube-system', 'kubeadm:kubeadm-certs', [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['kubeadm-certs'], verbs: ['get'] }]),
  );
  await client.createOrUpdate(
    `${RBAC}/namespaces/kube-system/rolebindings`,
    roleBinding('kube-system', 'kubeadm:kubeadm-certs', 'kubeadm:kubeadm-certs', [tokenGroup]),
  );
}
