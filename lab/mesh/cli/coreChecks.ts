/**
 * The categories of `linkerd check` and `linkerd check --pre` the lab runs, in linkerd2's order:
 * kubernetes-api, kubernetes-version, pre-kubernetes-setup (`--pre`), or linkerd-existence,
 * linkerd-config, linkerd-identity and control-plane-version. Left out (lab/README.md): the version
 * check against linkerd.io, webhooks' certificates, proxies, CNI, HA and extension checks.
 */
import type { Category, Checker } from './checks';
import { canI, type CheckedCluster, serverVersion } from './cluster';
import { CORE_CRDS } from './crds';
import { identityCategory } from './identityChecks';
import { CONTROL_PLANE_COMPONENT_LABEL, CONTROL_PLANE_COMPONENTS, CONTROL_PLANE_NS_LABEL } from './names';

/** The oldest Kubernetes the emulated release supports (edge-25.11: 1.23.0). */
const MIN_KUBERNETES = [1, 23, 0];

function kubernetesCategories(cluster: CheckedCluster): Category[] {
  return [
    {
      name: 'kubernetes-api',
      checkers: [
        { description: 'can initialize the client', hintAnchor: 'k8s-api', fatal: true, check: async () => cluster.connect() },
        {
          description: 'can query the Kubernetes API',
          hintAnchor: 'k8s-api',
          fatal: true,
          check: async () => {
            await serverVersion(cluster.client);
          },
        },
      ],
    },
    {
      name: 'kubernetes-version',
      checkers: [
        {
          description: 'is running the minimum Kubernetes API version',
          hintAnchor: 'k8s-version',
          check: async () => {
            const { parts } = await serverVersion(cluster.client);
            const older =
              parts[0] !== MIN_KUBERNETES[0]
                ? parts[0] < MIN_KUBERNETES[0]
                : parts[1] !== MIN_KUBERNETES[1]
                  ? parts[1] < MIN_KUBERNETES[1]
                  : parts[2] < MIN_KUBERNETES[2];
            if (older) throw new Error(`Kubernetes is on version [${parts.join('.')}], but version [${MIN_KUBERNETES.join('.')}] or more recent is required`);
          },
        },
      ],
    },
  ];
}

interface PodObject {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { phase?: string; containerStatuses?: Array<{ name?: string; ready?: boolean }> };
}

/** validateControlPlanePods: a running pod per component, every container ready. */
async function controlPlanePodsReady(cluster: CheckedCluster): Promise<void> {
  const selector = encodeURIComponent(CONTROL_PLANE_NS_LABEL);
  const list = await cluster.client.get<{ items?: PodObject[] }>(`/api/v1/namespaces/${cluster.namespace}/pods?labelSelector=${selector}`);
  const pods = list.items ?? [];
  for (const component of CONTROL_PLANE_COMPONENTS) {
    const running = pods.filter((p) => p.metadata?.labels?.[CONTROL_PLANE_COMPONENT_LABEL] === component && p.status?.phase === 'Running');
    if (running.length === 0) throw new Error(`No running pods for "linkerd-${component}"`);
    for (const pod of running) {
      const notReady = (pod.status?.containerStatuses ?? []).find((c) => !c.ready);
      if (notReady) throw new Error(`pod/${pod.metadata?.name} container ${notReady.name} is not ready`);
    }
  }
}

function controlPlaneCategories(cluster: CheckedCluster, cliVersion: string): Category[] {
  return [
    {
      name: 'linkerd-existence',
      checkers: [
        {
          description: "'linkerd-config' config map exists",
          hintAnchor: 'l5d-existence-linkerd-config',
          fatal: true,
          check: async () => {
            await cluster.readValues();
          },
        },
        { description: 'control plane pods are ready', hintAnchor: 'l5d-api-control-ready', retry: true, check: () => controlPlanePodsReady(cluster) },
      ],
    },
    {
      name: 'linkerd-config',
      checkers: [
        {
          description: 'control plane Namespace exists',
          hintAnchor: 'l5d-existence-ns',
          fatal: true,
          check: async () => {
            if (!(await cluster.client.find(`/api/v1/namespaces/${cluster.namespace}`))) throw new Error(`The "${cluster.namespace}" namespace does not exist`);
          },
        },
        {
          description: 'control plane CustomResourceDefinitions exist',
          hintAnchor: 'l5d-existence-crd',
          check: async () => {
            const missing: string[] = [];
            for (const crd of CORE_CRDS) {
              const name = `${crd.plural}.${crd.group}`;
              if (!(await cluster.client.find(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`))) missing.push(name);
            }
            if (missing.length) throw new Error(`missing ${missing.join(', ')}`);
          },
        },
      ],
    },
    identityCategory(cluster),
    {
      name: 'control-plane-version',
      checkers: [
        {
          description: 'can retrieve the control plane version',
          hintAnchor: 'l5d-version-control',
          fatal: true,
          check: async () => {
            if (!cluster.values?.linkerdVersion) throw new Error('could not find the control plane version in linkerd-config');
          },
        },
        {
          description: 'control plane and cli versions match',
          hintAnchor: 'l5d-version-control',
          warning: true,
          check: async () => {
            const running = cluster.values?.linkerdVersion;
            if (running !== cliVersion) throw new Error(`control plane running ${running} but cli running ${cliVersion}`);
          },
        },
      ],
    },
  ];
}

/** `can create <Kind>` in the control plane's namespace. */
function canCreate(cluster: CheckedCluster, kind: string, group: string, resource: string, verb = 'create'): Checker {
  return {
    description: `can ${verb === 'get' ? 'read' : 'create'} ${kind}`,
    hintAnchor: 'pre-k8s',
    check: async () => {
      if (!(await canI(cluster.client, verb, group, resource, cluster.namespace))) throw new Error(`missing permissions to ${verb} ${resource}`);
    },
  };
}

function preInstallCategory(cluster: CheckedCluster): Category {
  const clusterScoped: Array<[string, string]> = [
    ['', 'namespaces'],
    ['rbac.authorization.k8s.io', 'clusterroles'],
    ['rbac.authorization.k8s.io', 'clusterrolebindings'],
    ['apiextensions.k8s.io', 'customresourcedefinitions'],
  ];
  return {
    name: 'pre-kubernetes-setup',
    checkers: [
      {
        description: 'control plane namespace does not already exist',
        hintAnchor: 'pre-ns',
        check: async () => {
          if (await cluster.client.find(`/api/v1/namespaces/${cluster.namespace}`)) throw new Error(`The "${cluster.namespace}" namespace already exists`);
        },
      },
      {
        description: 'can create non-namespaced resources',
        hintAnchor: 'pre-k8s-cluster-k8s',
        check: async () => {
          for (const [group, resource] of clusterScoped)
            if (!(await canI(cluster.client, 'create', group, resource))) throw new Error(`missing permissions to create ${resource}`);
        },
      },
      canCreate(cluster, 'ServiceAccounts', '', 'serviceaccounts'),
      canCreate(cluster, 'Services', '', 'services'),
      canCreate(cluster, 'Deployments', 'apps', 'deployments'),
      canCreate(cluster, 'CronJobs', 'batch', 'cronjobs'),
      canCreate(cluster, 'ConfigMaps', '', 'configmaps'),
      canCreate(cluster, 'Secrets', '', 'secrets'),
      canCreate(cluster, 'Secrets', '', 'secrets', 'get'),
    ],
  };
}

/** The categories of `linkerd check` (`pre`: of `linkerd check --pre`). */
export function coreCategories(cluster: CheckedCluster, cliVersion: string, pre: boolean): Category[] {
  return [...kubernetesCategories(cluster), ...(pre ? [preInstallCategory(cluster)] : controlPlaneCategories(cluster, cliVersion))];
}
