/**
 * From an input's kubeconfig reference and context name to what the activities use: a kubeconfig cut
 * to that one context (current-context set), kept in the secret store by name, and an API client.
 * The linkerd CLI and kubeha's Kubernetes activities then read the same file.
 */
import { parse, stringify } from 'yaml';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { MeshCluster } from '../../common/inputs/linkMeshClusters';
import { cancellationSignal } from '../activityContext';
import { KubeClient } from '../kubernetes/client';
import { parseKubeconfig } from '../kubernetes/kubeconfig';
import { resolveSecretRef, type SecretStore } from '../secrets/store';
import type { ClusterAccess, MeshRole } from './types';

type Named = { name?: string; [key: string]: unknown };
interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: (Named & { context?: { cluster?: string; user?: string } })[];
  clusters?: Named[];
  users?: Named[];
  [key: string]: unknown;
}

/** An input problem found while reading a cluster's kubeconfig: names the field. */
function invalid(field: string, message: string): Error {
  return kubehaFailure({
    type: ErrorType.InvalidInput,
    message: `${field}: ${message}`,
    retryable: false,
    hint: 'fix the named field (the kubeconfig on the worker, or the context name) and start again; nothing was changed',
    details: { issues: [{ path: field, message }] },
  });
}

/**
 * Cuts `text` to one context: that context, its cluster and user, current-context set. Throws
 * InvalidInput naming `<role>.context` when the context is unknown (listing the ones there are).
 */
export function cutKubeconfig(text: string, context: string | undefined, role: MeshRole): { kubeconfig: string; context: string } {
  let doc: KubeconfigDoc;
  try {
    doc = parse(text) as KubeconfigDoc;
  } catch {
    throw invalid(`${role}.kubeconfig`, 'is not valid YAML');
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.contexts)) throw invalid(`${role}.kubeconfig`, 'is not a kubeconfig (no contexts)');
  const wanted = context ?? doc['current-context'];
  const field = context ? `${role}.context` : `${role}.kubeconfig`;
  if (!wanted) throw invalid(field, 'the kubeconfig has no current-context; name one with context');
  const entry = doc.contexts.find((c) => c.name === wanted);
  if (!entry) {
    const known =
      doc.contexts
        .map((c) => c.name)
        .filter(Boolean)
        .join(', ') || 'none';
    throw invalid(field, `context "${wanted}" is not in the kubeconfig (it has: ${known})`);
  }
  const cluster = doc.clusters?.find((c) => c.name === entry.context?.cluster);
  if (!cluster) throw invalid(field, `context "${wanted}" names cluster "${entry.context?.cluster ?? ''}", which the kubeconfig lacks`);
  const user = doc.users?.find((u) => u.name === entry.context?.user);
  const cut = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': wanted,
    contexts: [entry],
    clusters: [cluster],
    users: user ? [user] : [],
  };
  return { kubeconfig: stringify(cut), context: wanted };
}

/** Secret-store name of a cluster's cut kubeconfig. */
export function kubeconfigSecretName(pairName: string, role: MeshRole): string {
  return `mesh/${pairName}/${role}/kubeconfig`;
}

/** Reads the cluster's kubeconfig reference, cuts it to its context and stores it; returns the access. */
export async function resolveClusterAccess(secrets: SecretStore, pairName: string, role: MeshRole, cluster: MeshCluster): Promise<ClusterAccess> {
  let text: string;
  try {
    text = await resolveSecretRef(cluster.kubeconfig);
  } catch (err) {
    throw invalid(`${role}.kubeconfig`, (err as Error).message);
  }
  const cut = cutKubeconfig(text, cluster.context, role);
  let server: string;
  try {
    server = parseKubeconfig(cut.kubeconfig).server;
  } catch (err) {
    throw invalid(cluster.context ? `${role}.context` : `${role}.kubeconfig`, `context "${cut.context}" is not usable: ${(err as Error).message}`);
  }
  const kubeconfigSecret = kubeconfigSecretName(pairName, role);
  // Written only when it changed, so that a second run leaves the store as it was.
  if (!(await secrets.has(kubeconfigSecret)) || (await secrets.get(kubeconfigSecret)) !== cut.kubeconfig) await secrets.put(kubeconfigSecret, cut.kubeconfig);
  return { role, name: cluster.name, context: cut.context, kubeconfigSecret, server };
}

/** An API client for a cluster, following the activity's cancellation. */
export async function clientFor(secrets: SecretStore, access: Pick<ClusterAccess, 'kubeconfigSecret'>, requestTimeoutMs = 15_000): Promise<KubeClient> {
  const text = await secrets.get(access.kubeconfigSecret);
  return new KubeClient(parseKubeconfig(text), { requestTimeoutMs, signal: cancellationSignal() });
}
