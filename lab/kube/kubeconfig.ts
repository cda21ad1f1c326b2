/**
 * kubeconfig files as kubeadm writes them (one cluster, one user, one context) and the reading
 * of any kubeconfig's current context.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

/** The credentials of a kubeconfig user. */
export interface KubeUser {
  clientCertificatePem?: string;
  clientKeyPem?: string;
  token?: string;
}

/** The current context of a kubeconfig, resolved. */
export interface KubeTarget {
  server: string;
  caPem?: string;
  insecure?: boolean;
  user: KubeUser;
  clusterName: string;
  userName: string;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: unknown): string | undefined => (typeof text === 'string' ? Buffer.from(text, 'base64').toString('utf8') : undefined);

/** A kubeadm-style kubeconfig: `<user>@<cluster>` context. */
export function renderKubeconfig(options: { clusterName: string; server: string; caPem: string; userName: string; user: KubeUser }): string {
  const { clusterName, server, caPem, userName, user } = options;
  const userEntry: Record<string, string> = {};
  if (user.clientCertificatePem) userEntry['client-certificate-data'] = b64(user.clientCertificatePem);
  if (user.clientKeyPem) userEntry['client-key-data'] = b64(user.clientKeyPem);
  if (user.token) userEntry.token = user.token;
  const context = `${userName}@${clusterName}`;
  return stringify(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': b64(caPem), server }, name: clusterName }],
      contexts: [{ context: { cluster: clusterName, user: userName }, name: context }],
      'current-context': context,
      kind: 'Config',
      preferences: {},
      users: [{ name: userName, user: userEntry }],
    },
    { lineWidth: 0 },
  );
}

/** The cluster-info kubeconfig (kube-public/cluster-info): the cluster only, no user. */
export function renderClusterInfoKubeconfig(server: string, caPem: string): string {
  return stringify(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': b64(caPem), server }, name: '' }],
      contexts: null,
      'current-context': '',
      kind: 'Config',
      preferences: {},
      users: null,
    },
    { lineWidth: 0 },
  );
}

type Named<T> = { name?: string } & T;

/** Resolves the current context of a kubeconfig text. */
export function parseKubeconfig(text: string): KubeTarget {
  const doc = parse(text) as {
    clusters?: Named<{ cluster?: Record<string, unknown> }>[];
    users?: Named<{ user?: Record<string, unknown> }>[];
    contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
    'current-context'?: string;
  };
  const contexts = doc.contexts ?? [];
  const context = contexts.find((c) => c.name === doc['current-context'])?.context ?? contexts[0]?.context;
  const clusters = doc.clusters ?? [];
  const clusterEntry = (context ? clusters.find((c) => c.name === context.cluster) : undefined) ?? clusters[0];
  const cluster = clusterEntry?.cluster ?? {};
  const users = doc.users ?? [];
  const userEntry = (context ? users.find((u) => u.name === context.user) : undefined) ?? users[0];
  const user = userEntry?.user ?? {};
  if (typeof cluster.server !== 'string') throw new Error('kubeconfig has no cluster server');
  return {
    server: cluster.server,
    caPem:
      unb64(cluster['certificate-authority-data']) ??
      (typeof cluster['certificate-authority'] === 'string' ? readFileSync(cluster['certificate-authority'], 'utf8') : undefined),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    user: {
      clientCertificatePem:
        unb64(user['client-certificate-data']) ??
        (typeof user['client-certificate'] === 'string' ? readFileSync(user['client-certificate'], 'utf8') : undefined),
      clientKeyPem: unb64(user['client-key-data']) ?? (typeof user['client-key'] === 'string' ? readFileSync(user['client-key'], 'utf8') : undefined),
      token: typeof user.token === 'string' ? user.token : undefined,
    },
    clusterName: clusterEntry?.name ?? '',
    userName: userEntry?.name ?? '',
  };
}

/** Reads and resolves a kubeconfig file. */
export function readKubeconfig(file: string): KubeTarget {
  return parseKubeconfig(readFileSync(file, 'utf8'));
}
