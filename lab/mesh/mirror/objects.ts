/**
 * The objects the service mirror keeps on the local cluster for one exported Service of the linked
 * cluster, as Linkerd's controller builds them: the mirror Service `<name>-<target cluster>` (the
 * remote labels and annotations, less the `mirror.linkerd.io` ones and the Link's exclusions, plus the
 * mirror's own; the remote ports without node ports) and its Endpoints at the gateway, every port
 * sent to the gateway's port. Pure functions: the sync pass compares them with what exists.
 */
import {
  CLUSTER_NAME_LABEL,
  MIRRORED_SERVICE_LABEL,
  REMOTE_GATEWAY_IDENTITY_ANNOTATION,
  REMOTE_RESOURCE_VERSION_ANNOTATION,
  REMOTE_SVC_FQ_NAME_ANNOTATION,
  SVC_MIRROR_PREFIX,
} from '../cli/names';
import type { LinkResource } from './link';

/** A Service port as the API returns it. */
export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

/** A Service, as far as the mirror reads and writes it. */
export interface ServiceObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } & Record<string, unknown>;
  spec?: { ports?: ServicePort[]; clusterIP?: string } & Record<string, unknown>;
}

/** An Endpoints subset. */
export interface EndpointSubset {
  addresses?: Array<{ ip: string }>;
  notReadyAddresses?: Array<{ ip: string }>;
  ports?: Array<{ name?: string; protocol?: string; port: number }>;
}

/** An Endpoints object. */
export interface EndpointsObject {
  apiVersion?: string;
  kind?: string;
  metadata: ServiceObject['metadata'];
  subsets?: EndpointSubset[];
}

/** Topology hints are not multicluster aware: the controller never copies them. */
const TOPOLOGY_ANNOTATIONS = ['service.kubernetes.io/topology-aware-hints', 'service.kubernetes.io/topology-mode'];

/** The local name of the remote Service `name`. */
export function mirrorName(name: string, link: LinkResource): string {
  return `${name}-${link.spec.targetClusterName}`;
}

/** Whether `key` is in an exclusion list (`prefix/*` entries exclude a whole prefix). */
function excluded(key: string, list: string[] = []): boolean {
  return list.some((entry) => (entry.endsWith('/*') ? key.startsWith(entry.slice(0, -2)) : key === entry));
}

/** The labels of the mirror Service (and, the same set, of its Endpoints). */
export function mirrorLabels(remote: ServiceObject, link: LinkResource): Record<string, string> {
  const labels: Record<string, string> = { [MIRRORED_SERVICE_LABEL]: 'true' };
  for (const [key, value] of Object.entries(remote.metadata.labels ?? {})) {
    if (key.startsWith(SVC_MIRROR_PREFIX) || excluded(key, link.spec.excludedLabels)) continue;
    labels[key] = value;
  }
  labels[CLUSTER_NAME_LABEL] = link.spec.targetClusterName;
  return labels;
}

/** The remote Service's fully qualified name in its own cluster's domain. */
function fqName(remote: ServiceObject, link: LinkResource): string {
  return `${remote.metadata.name}.${remote.metadata.namespace}.svc.${link.spec.targetClusterDomain ?? 'cluster.local'}`;
}

/** The annotations of the mirror Service: the remote's, its name and the resource version mirrored. */
export function mirrorAnnotations(remote: ServiceObject, link: LinkResource): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(remote.metadata.annotations ?? {})) {
    if (TOPOLOGY_ANNOTATIONS.includes(key) || excluded(key, link.spec.excludedAnnotations)) continue;
    annotations[key] = value;
  }
  annotations[REMOTE_SVC_FQ_NAME_ANNOTATION] = fqName(remote, link);
  // The controller compares it with the remote's resourceVersion to see a real change.
  annotations[REMOTE_RESOURCE_VERSION_ANNOTATION] = remote.metadata.resourceVersion ?? '';
  return annotations;
}

/** The remote ports, node ports left out (they mean nothing on this cluster). */
export function mirrorPorts(remote: ServiceObject): ServicePort[] {
  return (remote.spec?.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    protocol: p.protocol ?? 'TCP',
    port: p.port,
    ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
  }));
}

/** The mirror Service to create for `remote`. */
export function mirrorService(remote: ServiceObject, link: LinkResource): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: mirrorName(remote.metadata.name, link),
      namespace: remote.metadata.namespace,
      labels: mirrorLabels(remote, link),
      annotations: mirrorAnnotations(remote, link),
    },
    spec: { ports: mirrorPorts(remote) },
  };
}

/**
 * The mirror's Endpoints: the gateway's addresses with one port per remote port, each at the
 * gateway's port (the gateway routes by the mirrored name, not the port). No subsets while the remote
 * Service has no ready endpoint, as the controller leaves them.
 */
export function mirrorEndpoints(remote: ServiceObject, link: LinkResource, gateway: string[], remoteReady: boolean): EndpointsObject {
  const gatewayPort = Number(link.spec.gatewayPort);
  const annotations: Record<string, string> = { [REMOTE_SVC_FQ_NAME_ANNOTATION]: fqName(remote, link) };
  if (link.spec.gatewayIdentity) annotations[REMOTE_GATEWAY_IDENTITY_ANNOTATION] = link.spec.gatewayIdentity;
  const ports = (remote.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP', port: gatewayPort }));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: mirrorName(remote.metadata.name, link), namespace: remote.metadata.namespace, labels: mirrorLabels(remote, link), annotations },
    subsets: remoteReady && gateway.length > 0 ? [{ addresses: gateway.map((ip) => ({ ip })), ports }] : [],
  };
}

/**
 * The probe Endpoints in the controller's namespace: the gateway's addresses at the probe port, read
 * by the controller's probe worker (and never marked not ready).
 */
export function probeEndpoints(link: LinkResource, name: string, gateway: string[]): EndpointsObject {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name,
      namespace: link.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: link.spec.targetClusterName },
      annotations: { [REMOTE_GATEWAY_IDENTITY_ANNOTATION]: link.spec.gatewayIdentity ?? '' },
    },
    subsets: [{ addresses: gateway.map((ip) => ({ ip })), ports: [{ name: 'mc-probe', protocol: 'TCP', port: Number(link.spec.probeSpec?.port) }] }],
  };
}
