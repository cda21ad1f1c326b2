/**
 * What the service mirror reads from a Link on the local cluster: its spec, a client for the linked
 * cluster made from the credentials Secret it names, and the gateway's addresses. Linkerd's controller
 * takes the addresses from the Link's `gatewayAddress` (which `link-gen` filled from the gateway
 * Service's load-balancer ingress, IP or hostname) and resolves each entry with a DNS lookup, so a
 * hostname becomes every address it resolves to; the list is sorted.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { KubeClient } from '../../kube/client';
import { clientForKubeconfig } from '../cli/kube';
import { CREDENTIALS_KEY, LINK_GROUP, LINK_VERSION } from '../cli/names';
import type { LabelSelector } from './selector';

/** A Link custom resource, as far as the service mirror reads it. */
export interface LinkResource {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    targetClusterName: string;
    targetClusterDomain?: string;
    clusterCredentialsSecret: string;
    gatewayAddress?: string;
    gatewayPort?: string;
    gatewayIdentity?: string;
    probeSpec?: { port?: string; path?: string; period?: string };
    selector?: LabelSelector;
    excludedLabels?: string[];
    excludedAnnotations?: string[];
  };
  status?: { mirrorServices?: MirrorServiceStatus[] } & Record<string, unknown>;
}

/** One `status.mirrorServices[]` entry of a Link. */
export interface MirrorServiceStatus {
  controllerName: string;
  remoteRef: { name: string; namespace: string; kind: string; group: string };
  conditions: LinkCondition[];
}

/** A condition of a mirrored service (type `Mirrored`). */
export interface LinkCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
  localRef?: { name: string; namespace: string; kind: string; group: string };
}

/** A failure to reach the linked cluster, in the controller's words. */
export class LinkAccessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkAccessError';
  }
}

/** The Links in `namespace` (all of them, or only `name`). */
export async function listLinks(local: KubeClient, namespace: string, name?: string): Promise<LinkResource[]> {
  const base = `/apis/${LINK_GROUP}/${LINK_VERSION}/namespaces/${namespace}/links`;
  if (name) {
    const link = await local.find<LinkResource>(`${base}/${name}`);
    return link ? [link] : [];
  }
  return (await local.get<{ items?: LinkResource[] }>(base)).items ?? [];
}

/** A client for the Link's target cluster, from the kubeconfig in its credentials Secret. */
export async function remoteClient(local: KubeClient, link: LinkResource, timeoutMs: number): Promise<KubeClient> {
  const name = link.spec.clusterCredentialsSecret;
  const secret = await local.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${link.metadata.namespace}/secrets/${name}`);
  if (!secret) throw new LinkAccessError(`failed to load credentials secret ${name}: secrets "${name}" not found`);
  const config = secret.data?.[CREDENTIALS_KEY];
  if (!config) throw new LinkAccessError(`failed to load credentials secret ${name}: no ${CREDENTIALS_KEY} key`);
  return clientForKubeconfig(Buffer.from(config, 'base64').toString('utf8'), timeoutMs);
}

/** Looks a name up the way Go's net.LookupIP does for the controller: IP literals answer themselves. */
export type Resolver = (host: string) => Promise<string[]>;

/** The system resolver (every A and AAAA record). */
export const systemResolver: Resolver = async (host) => (isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address));

/**
 * The gateway's addresses: every entry of `gatewayAddress` resolved, sorted. Entries that do not
 * resolve are skipped; none resolving is an error (the controller retries the event).
 */
export async function resolveGateway(link: LinkResource, resolve: Resolver = systemResolver): Promise<string[]> {
  const entries = (link.spec.gatewayAddress ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const addresses: string[] = [];
  const errors: string[] = [];
  for (const entry of entries) {
    try {
      addresses.push(...(await resolve(entry)));
    } catch (err) {
      errors.push(`Error resolving '${entry}': ${(err as Error).message}`);
    }
  }
  if (addresses.length === 0) throw new LinkAccessError(`Inner errors:\n\t${errors.join('\n\t') || 'the Link has no gatewayAddress'}`);
  return addresses.sort();
}
