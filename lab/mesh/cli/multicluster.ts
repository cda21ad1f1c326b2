/**
 * `linkerd multicluster install`: the extension's namespace, the gateway (Deployment, LoadBalancer
 * Service with the mirror annotations, ServiceAccount), the remote-access ServiceAccount with its
 * token Secret and read-only ClusterRole, the Link CRD, and one service mirror controller per
 * `controllers[i].link.ref.name` (link-gen mode). Policies and PDBs are not rendered (lab/README.md).
 */
import { crdObject, LINK_CRD } from './crds';
import { applySet, type RenderedObject, meta } from './manifest';
import {
  CLUSTER_NAME_LABEL,
  CONTROL_PLANE_NAMESPACE,
  CREATED_BY,
  createdBy,
  EXTENSION_LABEL,
  GATEWAY_IDENTITY_ANNOTATION,
  GATEWAY_NAME,
  GATEWAY_PORT,
  GATEWAY_PORT_NAME,
  MULTICLUSTER_EXTENSION,
  MULTICLUSTER_GATEWAY_ANNOTATION,
  MULTICLUSTER_NAMESPACE,
  PROBE_PATH,
  PROBE_PATH_ANNOTATION,
  PROBE_PERIOD_ANNOTATION,
  PROBE_PORT,
  PROBE_PORT_NAME,
  PROBE_SECONDS,
  REMOTE_ACCESS_ACCOUNT,
  SA_NAME_ANNOTATION,
  TRUST_DOMAIN,
} from './names';

/** The chart values the lab reads from `--set`. */
interface MulticlusterValues {
  gateway?: { enabled?: boolean; port?: number; serviceType?: string; probe?: { port?: number; path?: string; seconds?: number } };
  controllers?: Array<{ link?: { ref?: { name?: string } } }>;
  linkerdNamespace?: string;
}

/** The service mirror controller of one Link, as the chart's `controllers[]` renders it. */
export function controllerObjects(linkName: string, version: string, component: 'controller' | 'service-mirror'): RenderedObject[] {
  const name = component === 'controller' ? `controller-${linkName}` : `linkerd-service-mirror-${linkName}`;
  const labels = { [EXTENSION_LABEL]: MULTICLUSTER_EXTENSION, component, [CLUSTER_NAME_LABEL]: linkName };
  const annotations = { [CREATED_BY]: createdBy(version) };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name, MULTICLUSTER_NAMESPACE, labels, annotations) },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name, MULTICLUSTER_NAMESPACE, labels, annotations),
      spec: {
        replicas: 1,
        selector: { matchLabels: { component, [CLUSTER_NAME_LABEL]: linkName } },
        template: {
          metadata: { annotations: { 'linkerd.io/inject': 'enabled' }, labels },
          spec: {
            serviceAccountName: name,
            containers: [
              {
                name: component,
                image: `cr.l5d.io/linkerd/controller:${version}`,
                args: ['service-mirror', `-link-name=${linkName}`, `-namespace=${MULTICLUSTER_NAMESPACE}`],
                ports: [{ name: 'admin-http', containerPort: 9999 }],
              },
            ],
          },
        },
      },
    },
  ];
}

/** What `linkerd multicluster install` prints. */
export function renderMulticluster(version: string, set: string[]): RenderedObject[] {
  const values: MulticlusterValues & Record<string, unknown> = {};
  for (const assignment of set) applySet(values, assignment);
  const ns = MULTICLUSTER_NAMESPACE;
  const annotations = { [CREATED_BY]: createdBy(version) };
  const ext = { [EXTENSION_LABEL]: MULTICLUSTER_EXTENSION };
  const gateway = values.gateway ?? {};
  const port = gateway.port ?? GATEWAY_PORT;
  const probePort = gateway.probe?.port ?? PROBE_PORT;
  const linkerdNamespace = values.linkerdNamespace ?? CONTROL_PLANE_NAMESPACE;
  const objects: RenderedObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns, undefined, { ...ext, 'pod-security.kubernetes.io/enforce': 'privileged' }) },
  ];
  if (gateway.enabled !== false) {
    const app = { app: GATEWAY_NAME };
    objects.push(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta(GATEWAY_NAME, ns, { 'app.kubernetes.io/name': 'gateway', component: 'gateway', ...app, ...ext }, annotations),
        spec: {
          replicas: 1,
          selector: { matchLabels: app },
          template: {
            metadata: {
              annotations: { ...annotations, 'linkerd.io/inject': 'enabled', 'config.linkerd.io/enable-gateway': 'true' },
              labels: { ...app, ...ext },
            },
            spec: { serviceAccountName: GATEWAY_NAME, containers: [{ name: 'pause', image: 'gcr.io/google_containers/pause:3.2' }] },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta(GATEWAY_NAME, ns, ext, {
          [GATEWAY_IDENTITY_ANNOTATION]: `${GATEWAY_NAME}.${ns}.serviceaccount.identity.${linkerdNamespace}.${TRUST_DOMAIN}`,
          [PROBE_PERIOD_ANNOTATION]: String(gateway.probe?.seconds ?? PROBE_SECONDS),
          [PROBE_PATH_ANNOTATION]: gateway.probe?.path ?? PROBE_PATH,
          [MULTICLUSTER_GATEWAY_ANNOTATION]: 'true',
          ...annotations,
        }),
        spec: {
          ports: [
            { name: GATEWAY_PORT_NAME, port, protocol: 'TCP' },
            { name: PROBE_PORT_NAME, port: probePort, protocol: 'TCP' },
          ],
          selector: app,
          type: gateway.serviceType ?? 'LoadBalancer',
        },
      },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(GATEWAY_NAME, ns, ext) },
    );
  }
  const access = REMOTE_ACCESS_ACCOUNT;
  objects.push(
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(access, undefined, ext, annotations),
      rules: [
        { apiGroups: [''], resources: ['pods', 'endpoints', 'services'], verbs: ['list', 'get', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'get', 'watch'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['linkerd-config'] },
      ],
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(access, ns, ext, annotations) },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(`${access}-token`, ns, ext, { [SA_NAME_ANNOTATION]: access, ...annotations }),
      type: 'kubernetes.io/service-account-token',
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(access, undefined, ext, annotations),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: access },
      subjects: [{ kind: 'ServiceAccount', name: access, namespace: ns }],
    },
    crdObject(LINK_CRD, version),
  );
  for (const controller of values.controllers ?? []) {
    const name = controller.link?.ref?.name;
    if (name) objects.push(...controllerObjects(name, version, 'controller'));
  }
  return objects;
}
