/**
 * LAB STAND-INS for what Linkerd multicluster would have put on the lab's clusters (see "Mesh
 * stand-ins" in lab/README.md): the objects only, with the names, labels, annotations and ports
 * Linkerd's charts and its service mirror use, so that kubeha reads them exactly as it would read
 * Linkerd's. Pure builders: lab/mesh/index.ts applies them.
 *
 * What each object stands in for:
 * - east: the `linkerd-multicluster` namespace, the gateway Deployment and its LoadBalancer Service
 *   (`mc-gateway` 4143, `mc-probe` 4191), an exported demo service (`mirror.linkerd.io/exported`);
 * - west: the demo service's own backend, its mirror `<svc>-<east>` (labels and Endpoints as the
 *   service mirror writes them, pointing at east's gateway), and the SMI TrafficSplit (CRD as the
 *   linkerd-smi extension installs it, object as kubeha's LinkMeshClusters writes it);
 * - both: EndpointSlices, which kube-controller-manager's endpointslice and endpointslicemirroring
 *   controllers write on a real cluster (the lab runs no controller manager and no pods).
 */
import type { KubeObject } from '../kube/client';

// Linkerd's own names, spelled here from Linkerd's multicluster documentation and chart values (never
// taken from kubeha's code, so a wrong name in kubeha cannot be mirrored by the lab).
/** The namespace `linkerd multicluster install` creates. */
export const MULTICLUSTER_NAMESPACE = 'linkerd-multicluster';
/** The gateway's Service and Deployment name. */
export const GATEWAY_SERVICE = 'linkerd-gateway';
/** The label that exports a Service to linked clusters. */
export const EXPORT_LABEL = 'mirror.linkerd.io/exported';
/** The gateway Service's port name for proxied traffic. */
export const GATEWAY_PORT_NAME = 'mc-gateway';
/** The service mirror's labels on a mirror Service. */
export const MIRRORED_LABEL = 'mirror.linkerd.io/mirrored-service';
export const CLUSTER_LABEL = 'mirror.linkerd.io/cluster-name';

/** The gateway's ports (linkerd-multicluster chart defaults). */
export const GATEWAY_PORT = 4143;
export const GATEWAY_PROBE_PORT = 4191;
/** The version the stand-ins claim to be (labels only; nothing of Linkerd runs). */
export const STAND_IN_LINKERD_VERSION = 'stable-2.14.10';
/** The field manager and `managed-by` value of everything the stand-ins write. */
export const STAND_IN_MANAGER = 'kubeha-lab-mesh';
/** The annotation that says an object is a lab stand-in, and for what. */
export const STAND_IN_ANNOTATION = 'lab.kubeha.io/stand-in-for';

/** A service the lab exports from east and splits on west. */
export interface LabMeshService {
  namespace: string;
  name: string;
  port: number;
}

/** The lab's demo service (podinfo's port, as in Linkerd's multicluster walkthrough). */
export const LAB_MESH_SERVICES: readonly LabMeshService[] = [{ namespace: 'kubeha-demo', name: 'podinfo', port: 9898 }];

/** The addresses the stand-ins hand out, inside each cluster's VPC (never loopback: the API refuses those in Endpoints). */
export interface MeshAddresses {
  /** The gateway Service's load balancer ingress IP on east (what mirrors point at). */
  gatewayIngress: string;
  /** The gateway pod's IP on east. */
  gatewayPod: string;
  /** The demo workload's pod IP on east. */
  eastPod: string;
  /** The demo workload's pod IP on west. */
  westPod: string;
}

/** Addresses from the clusters' VPC CIDRs (`10.W.0.0/16`, `10.E.0.0/16`): pods in the first subnet. */
export function meshAddresses(westCidr: string, eastCidr: string): MeshAddresses {
  const prefix = (cidr: string) => cidr.split('.').slice(0, 2).join('.');
  const e = prefix(eastCidr);
  const w = prefix(westCidr);
  return { gatewayIngress: `${e}.2.200`, gatewayPod: `${e}.1.200`, eastPod: `${e}.1.11`, westPod: `${w}.1.11` };
}

const standIn = (what: string) => ({ [STAND_IN_ANNOTATION]: what });

function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

/** A Deployment the lab controller reports rolled out (no pod can run in the lab). */
function deployment(
  ns: string,
  name: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  image: string,
  ports: Array<{ name: string; containerPort: number }>,
  what: string,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels, annotations: standIn(what) },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...labels, ...selector }, annotations: { 'linkerd.io/inject': 'enabled' } },
        spec: { containers: [{ name: name.replace(/^linkerd-/, ''), image, ports }] },
      },
    },
  };
}

/** The EndpointSlice kube-controller-manager would write for a selector Service with one ready pod. */
function podSlice(ns: string, service: string, ip: string, ports: Array<{ name: string; port: number }>, node: string): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-lab`,
      namespace: ns,
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': `${STAND_IN_MANAGER}.lab.kubeha.io` },
      annotations: standIn('the endpointslice controller of kube-controller-manager (the lab runs no pods)'),
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: node }],
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP' })),
  };
}

/** The demo workload of one cluster: Deployment, Service and its ready EndpointSlice. */
function demoWorkload(svc: LabMeshService, ip: string, node: string, exported: boolean): KubeObject[] {
  const labels = { app: svc.name };
  const serviceLabels: Record<string, string> = exported ? { ...labels, [EXPORT_LABEL]: 'true' } : labels;
  return [
    deployment(
      svc.namespace,
      svc.name,
      labels,
      labels,
      'ghcr.io/stefanprodan/podinfo:6.7.0',
      [{ name: 'http', containerPort: svc.port }],
      'the demo service of the multicluster walkthrough',
    ),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svc.name, namespace: svc.namespace, labels: serviceLabels },
      spec: { selector: labels, ports: [{ name: 'http', port: svc.port, targetPort: svc.port, protocol: 'TCP' }] },
    },
    podSlice(svc.namespace, svc.name, ip, [{ name: 'http', port: svc.port }], node),
  ];
}

/** What `linkerd multicluster install` puts on east (the gateway part) and the exported services. */
export function eastObjects(services: readonly LabMeshService[], addresses: MeshAddresses, eastNode: string): KubeObject[] {
  const gatewayLabels = {
    'app.kubernetes.io/name': 'gateway',
    'app.kubernetes.io/part-of': 'Linkerd',
    'app.kubernetes.io/version': STAND_IN_LINKERD_VERSION,
    component: 'gateway',
    app: GATEWAY_SERVICE,
    'linkerd.io/extension': 'multicluster',
  };
  const ports = [
    { name: GATEWAY_PORT_NAME, port: GATEWAY_PORT },
    { name: 'mc-probe', port: GATEWAY_PROBE_PORT },
  ];
  const namespaces = [...new Set(services.map((s) => s.namespace))];
  return [
    namespace(MULTICLUSTER_NAMESPACE, { 'linkerd.io/extension': 'multicluster' }),
    ...namespaces.map((ns) => namespace(ns, {})),
    deployment(
      MULTICLUSTER_NAMESPACE,
      GATEWAY_SERVICE,
      gatewayLabels,
      { app: GATEWAY_SERVICE },
      'cr.l5d.io/linkerd/proxy:stable-2.14.10',
      ports.map((p) => ({ name: p.name, containerPort: p.port })),
      'the multicluster gateway of linkerd-multicluster',
    ),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: GATEWAY_SERVICE,
        namespace: MULTICLUSTER_NAMESPACE,
        labels: { 'linkerd.io/extension': 'multicluster', component: 'gateway' },
        annotations: {
          'mirror.linkerd.io/gateway-identity': `${GATEWAY_SERVICE}.${MULTICLUSTER_NAMESPACE}.serviceaccount.identity.linkerd.cluster.local`,
          'mirror.linkerd.io/probe-path': '/ready',
          'mirror.linkerd.io/probe-period': '3',
          'mirror.linkerd.io/multicluster-gateway': 'true',
          ...standIn('the gateway Service of linkerd-multicluster'),
        },
      },
      spec: { type: 'LoadBalancer', selector: { app: GATEWAY_SERVICE }, ports: ports.map((p) => ({ ...p, protocol: 'TCP', targetPort: p.port })) },
    },
    podSlice(MULTICLUSTER_NAMESPACE, GATEWAY_SERVICE, addresses.gatewayPod, ports, eastNode),
    ...services.flatMap((s) => demoWorkload(s, addresses.eastPod, eastNode, true)),
  ];
}

/** The load balancer status a cloud controller writes on the gateway Service (applied to `/status`). */
export function gatewayStatus(addresses: MeshAddresses): { status: { loadBalancer: { ingress: Array<{ ip: string }> } } } {
  return { status: { loadBalancer: { ingress: [{ ip: addresses.gatewayIngress }] } } };
}

/** The TrafficSplit's apiVersion in the lab: v1alpha2 (integer weights), served by the CRD (./trafficSplitCrd.ts). */
export const LAB_SPLIT_API_VERSION = 'split.smi-spec.io/v1alpha2';

/**
 * What west holds for each exported service once linked: its own backend, the mirror the service
 * mirror creates (`<svc>-<east>`, no selector) with the Endpoints it writes (east's gateway address,
 * the gateway port under the service's port names), the EndpointSlice the mirroring controller derives
 * from them, and the split starting with all traffic on west.
 */
export function westObjects(services: readonly LabMeshService[], addresses: MeshAddresses, eastName: string, westNode: string): KubeObject[] {
  const namespaces = [...new Set(services.map((s) => s.namespace))];
  return [
    ...namespaces.map((ns) => namespace(ns, {})),
    ...services.flatMap((svc) => {
      const mirror = `${svc.name}-${eastName}`;
      const mirrorLabels = { [MIRRORED_LABEL]: 'true', [CLUSTER_LABEL]: eastName };
      const mirrorAnnotations = {
        'mirror.linkerd.io/remote-svc-fq-name': `${svc.name}.${svc.namespace}.svc.cluster.local`,
        'mirror.linkerd.io/remote-gateway-identity': `${GATEWAY_SERVICE}.${MULTICLUSTER_NAMESPACE}.serviceaccount.identity.linkerd.cluster.local`,
        ...standIn('a mirror written by the service mirror of linkerd-multicluster'),
      };
      // An SMI TrafficSplit as the SMI spec defines it: the apex service and weighted backends.
      const split: KubeObject = {
        apiVersion: LAB_SPLIT_API_VERSION,
        kind: 'TrafficSplit',
        metadata: { name: svc.name, namespace: svc.namespace, labels: { 'app.kubernetes.io/managed-by': 'kubeha' } },
        spec: {
          service: svc.name,
          backends: [
            { service: svc.name, weight: 100 },
            { service: mirror, weight: 0 },
          ],
        },
      };
      return [
        ...demoWorkload(svc, addresses.westPod, westNode, false),
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: mirror, namespace: svc.namespace, labels: mirrorLabels, annotations: mirrorAnnotations },
          spec: { type: 'ClusterIP', ports: [{ name: 'http', port: svc.port, protocol: 'TCP' }] },
        },
        {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: mirror, namespace: svc.namespace, labels: mirrorLabels, annotations: mirrorAnnotations },
          subsets: [{ addresses: [{ ip: addresses.gatewayIngress }], ports: [{ name: 'http', port: GATEWAY_PORT, protocol: 'TCP' }] }],
        },
        {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: {
            name: `${mirror}-lab`,
            namespace: svc.namespace,
            labels: { ...mirrorLabels, 'kubernetes.io/service-name': mirror, 'endpointslice.kubernetes.io/managed-by': `${STAND_IN_MANAGER}.lab.kubeha.io` },
            annotations: standIn('the endpointslicemirroring controller of kube-controller-manager'),
          },
          addressType: 'IPv4',
          endpoints: [{ addresses: [addresses.gatewayIngress], conditions: { ready: true } }],
          ports: [{ name: 'http', port: GATEWAY_PORT, protocol: 'TCP' }],
        },
        { ...split, metadata: { ...split.metadata, annotations: standIn('the split LinkMeshClusters writes (linkerd-smi)') } } as KubeObject,
      ];
    }),
  ];
}
