/**
 * `linkerd multicluster link-gen` (and the deprecated `link`), run against the exporting cluster: the
 * credentials Secret (a kubeconfig for the remote-access ServiceAccount's token, cut to the current
 * context), its copy for the destination controller, and the Link with the gateway's address, port,
 * identity and probe. `link` adds the legacy service mirror controller. Fails as the CLI does when
 * Linkerd, the token or the gateway's address is missing.
 */
import { parse, stringify } from 'yaml';
import type { KubeClient } from '../../kube/client';
import { controllerObjects } from './multicluster';
import { type RenderedObject, meta } from './manifest';
import {
  CONFIG_MAP,
  CREATED_BY,
  createdBy,
  CREDENTIALS_KEY,
  CREDENTIALS_SECRET_TYPE,
  EXPORTED_LABEL,
  GATEWAY_IDENTITY_ANNOTATION,
  GATEWAY_NAME,
  GATEWAY_PORT_NAME,
  LINK_CLUSTER_DOMAIN_ANNOTATION,
  LINK_CLUSTER_NAME_LABEL,
  LINK_GROUP,
  LINK_TRUST_DOMAIN_ANNOTATION,
  LINK_VERSION,
  MULTICLUSTER_NAMESPACE,
  PROBE_PATH_ANNOTATION,
  PROBE_PERIOD_ANNOTATION,
  PROBE_PORT_NAME,
  REMOTE_ACCESS_ACCOUNT,
  SA_NAME_ANNOTATION,
} from './names';

/** A failure of the link command, in the CLI's words. */
export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkError';
  }
}

/** What the link command is given. */
export interface LinkInput {
  clusterName: string;
  /** The exporting cluster's kubeconfig, cut to the selected context. */
  kubeconfig: string;
  controlPlaneNamespace: string;
  version: string;
  apiServerAddress?: string;
  gatewayAddresses?: string;
  gatewayPort?: number;
  serviceAccountName?: string;
  selector?: string;
  legacy: boolean;
}

interface ServiceObject {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { type?: string; ports?: Array<{ name?: string; port?: number; nodePort?: number }> };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
}
interface SecretObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** A label query (`a=b,c`) as metav1.LabelSelector's matchLabels. */
function labelSelector(query: string): Record<string, unknown> {
  const matchLabels: Record<string, string> = {};
  for (const part of query.split(',').filter(Boolean)) {
    const [key, value] = part.split('=');
    matchLabels[key.trim()] = (value ?? '').trim();
  }
  return { matchLabels };
}

/** The token the remote-access ServiceAccount's token Secret holds (filled by the token controller). */
async function serviceAccountToken(client: KubeClient, account: string): Promise<string> {
  const ns = MULTICLUSTER_NAMESPACE;
  const sa = await client.find(`/api/v1/namespaces/${ns}/serviceaccounts/${account}`);
  if (!sa) throw new LinkError(`serviceaccounts "${account}" not found`);
  const list = await client.get<{ items?: SecretObject[] }>(
    `/api/v1/namespaces/${ns}/secrets?fieldSelector=${encodeURIComponent('type=kubernetes.io/service-account-token')}`,
  );
  const secret = (list.items ?? []).find((s) => s.metadata?.annotations?.[SA_NAME_ANNOTATION] === account);
  if (!secret) throw new LinkError(`could not find service account token secret for ${account}`);
  const token = secret.data?.token;
  if (!token) throw new LinkError(`could not find the token data in service account secret ${secret.metadata?.name}`);
  return Buffer.from(token, 'base64').toString('utf8');
}

/** The kubeconfig the Link carries: the current context, its cluster, the account's token as user. */
function credentialsKubeconfig(kubeconfig: string, account: string, token: string, server?: string): string {
  const doc = parse(kubeconfig) as {
    clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
    contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
    'current-context': string;
  };
  const context = doc.contexts.find((c) => c.name === doc['current-context']) ?? doc.contexts[0];
  const cluster = doc.clusters.find((c) => c.name === context.context.cluster) ?? doc.clusters[0];
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster.name, cluster: { ...cluster.cluster, ...(server ? { server } : {}) } }],
    contexts: [{ name: context.name, context: { cluster: cluster.name, user: account } }],
    'current-context': context.name,
    preferences: {},
    users: [{ name: account, user: { token } }],
  });
}

/** The Link's gateway fields from the exporting cluster's gateway Service. */
async function gatewaySpec(client: KubeClient, input: LinkInput): Promise<Record<string, unknown>> {
  const gateway = await client.find<ServiceObject>(`/api/v1/namespaces/${MULTICLUSTER_NAMESPACE}/services/${GATEWAY_NAME}`);
  if (!gateway) throw new LinkError(`services "${GATEWAY_NAME}" not found`);
  const where = `${GATEWAY_NAME}.${MULTICLUSTER_NAMESPACE}`;
  const addresses = (gateway.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean);
  const gatewayAddress = input.gatewayAddresses || addresses.join(',');
  if (!gatewayAddress) throw new LinkError(`gateway ${where} has no ingress addresses`);
  const annotations = gateway.metadata?.annotations ?? {};
  const identity = annotations[GATEWAY_IDENTITY_ANNOTATION];
  if (!identity) throw new LinkError(`gateway ${where} has no ${GATEWAY_IDENTITY_ANNOTATION} annotation`);
  const path = annotations[PROBE_PATH_ANNOTATION];
  if (!path) throw new LinkError('probe path is empty');
  const portOf = (name: string) => {
    const port = gateway.spec?.ports?.find((p) => p.name === name);
    if (!port) throw new LinkError(`gateway service ${GATEWAY_NAME} has no gateway port named ${name}`);
    return gateway.spec?.type === 'NodePort' ? port.nodePort : port.port;
  };
  const period = annotations[PROBE_PERIOD_ANNOTATION] ?? '';
  return {
    gatewayAddress,
    gatewayPort: String(input.gatewayPort || portOf(GATEWAY_PORT_NAME)),
    gatewayIdentity: identity,
    probeSpec: { path, port: String(portOf(PROBE_PORT_NAME)), period: /^\d+$/.test(period) ? `${period}s` : period },
    selector: labelSelector(input.selector ?? `${EXPORTED_LABEL}=true`),
  };
}

/** What `linkerd multicluster link-gen|link --cluster-name <name>` prints. */
export async function renderLink(client: KubeClient, input: LinkInput): Promise<RenderedObject[]> {
  const config = await client.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${input.controlPlaneNamespace}/configmaps/${CONFIG_MAP}`);
  if (!config) throw new LinkError('you need Linkerd to be installed on a cluster in order to get its credentials');
  const values = (parse(config.data?.values ?? '') ?? {}) as { clusterDomain?: string; identityTrustDomain?: string };
  const clusterDomain = values.clusterDomain ?? 'cluster.local';
  const account = input.serviceAccountName ?? REMOTE_ACCESS_ACCOUNT;
  const token = await serviceAccountToken(client, account);
  const kubeconfig = Buffer.from(credentialsKubeconfig(input.kubeconfig, account, token, input.apiServerAddress)).toString('base64');
  const secretName = `cluster-credentials-${input.clusterName}`;
  const secret = (namespace: string, labels?: Record<string, string>, annotations?: Record<string, string>): RenderedObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(secretName, namespace, labels, annotations),
    type: CREDENTIALS_SECRET_TYPE,
    data: { [CREDENTIALS_KEY]: kubeconfig },
  });
  const link: RenderedObject = {
    apiVersion: `${LINK_GROUP}/${LINK_VERSION}`,
    kind: 'Link',
    metadata: meta(input.clusterName, MULTICLUSTER_NAMESPACE, {}, { [CREATED_BY]: createdBy(input.version) }),
    spec: {
      targetClusterName: input.clusterName,
      targetClusterDomain: clusterDomain,
      targetClusterLinkerdNamespace: input.controlPlaneNamespace,
      clusterCredentialsSecret: secretName,
      remoteDiscoverySelector: labelSelector(`${EXPORTED_LABEL}=remote-discovery`),
      federatedServiceSelector: labelSelector('mirror.linkerd.io/federated=member'),
      ...(await gatewaySpec(client, input)),
    },
  };
  return [
    secret(MULTICLUSTER_NAMESPACE),
    secret(
      input.controlPlaneNamespace,
      { [LINK_CLUSTER_NAME_LABEL]: input.clusterName },
      { [LINK_TRUST_DOMAIN_ANNOTATION]: values.identityTrustDomain ?? clusterDomain, [LINK_CLUSTER_DOMAIN_ANNOTATION]: clusterDomain },
    ),
    link,
    ...(input.legacy ? controllerObjects(input.clusterName, input.version, 'service-mirror') : []),
  ];
}
