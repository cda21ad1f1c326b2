/**
 * `linkerd multicluster gateways`: one row per linked cluster (CLUSTER, ALIVE, NUM_SVC, LATENCY).
 * LAB EMULATION of the liveness: the real CLI scrapes the service mirror controller's probe metrics
 * through its pod; the lab has no metrics, so a gateway is alive when the Link's controller is
 * available and, read through the Link's credentials (which may read Services and Endpoints only), the
 * linked cluster's gateway Service has an ingress address and a ready endpoint (a gateway pod that
 * passes its readiness probe).
 */
import type { KubeClient } from '../../kube/client';
import type { CheckedCluster } from './cluster';
import { clientForKubeconfig } from './kube';
import type { LinkObject } from './multiclusterChecks';
import {
  CLUSTER_NAME_LABEL,
  CREDENTIALS_KEY,
  EXTENSION_LABEL,
  GATEWAY_NAME,
  LINK_GROUP,
  LINK_VERSION,
  MIRRORED_SERVICE_LABEL,
  MULTICLUSTER_EXTENSION,
  MULTICLUSTER_NAMESPACE,
  SERVICE_MIRROR_COMPONENTS,
} from './names';

/** The extension is not installed: the CLI's error. */
export class ExtensionMissingError extends Error {
  constructor() {
    super(
      `make sure the linkerd-multicluster extension is installed, using 'linkerd multicluster install' (namespace with label "${EXTENSION_LABEL}: ${MULTICLUSTER_EXTENSION}" not found)`,
    );
    this.name = 'ExtensionMissingError';
  }
}

/** Whether a namespace carries the multicluster extension label. */
export async function hasExtension(client: KubeClient): Promise<boolean> {
  const selector = encodeURIComponent(`${EXTENSION_LABEL}=${MULTICLUSTER_EXTENSION}`);
  const list = await client.get<{ items?: unknown[] }>(`/api/v1/namespaces?labelSelector=${selector}`);
  return (list.items ?? []).length > 0;
}

interface Row {
  cluster: string;
  alive: boolean;
  services: number;
}

async function gatewayAlive(local: KubeClient, link: LinkObject): Promise<boolean> {
  const secret = await local.find<{ data?: Record<string, string> }>(
    `/api/v1/namespaces/${link.metadata?.namespace}/secrets/${link.spec?.clusterCredentialsSecret}`,
  );
  const config = secret?.data?.[CREDENTIALS_KEY];
  if (!config) return false;
  try {
    const remote = clientForKubeconfig(Buffer.from(config, 'base64').toString('utf8'), 10_000);
    const svc = await remote.find<{ status?: { loadBalancer?: { ingress?: unknown[] } } }>(
      `/api/v1/namespaces/${MULTICLUSTER_NAMESPACE}/services/${GATEWAY_NAME}`,
    );
    const endpoints = await remote.find<{ subsets?: Array<{ addresses?: unknown[] }> }>(
      `/api/v1/namespaces/${MULTICLUSTER_NAMESPACE}/endpoints/${GATEWAY_NAME}`,
    );
    const ready = (endpoints?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0);
    return ready && (svc?.status?.loadBalancer?.ingress ?? []).length > 0;
  } catch {
    return false;
  }
}

/** The rows for every Link (or only `clusterName`'s) whose service mirror controller runs. */
export async function gatewayRows(cluster: CheckedCluster, clusterName?: string): Promise<Row[]> {
  const client = cluster.client;
  if (!(await hasExtension(client))) throw new ExtensionMissingError();
  const links = (await client.get<{ items?: LinkObject[] }>(`/apis/${LINK_GROUP}/${LINK_VERSION}/links`).catch(() => ({ items: [] }))).items ?? [];
  const rows: Row[] = [];
  for (const link of links) {
    const name = link.spec?.targetClusterName ?? '';
    if (clusterName && name !== clusterName) continue;
    const selector = encodeURIComponent(`component in (${SERVICE_MIRROR_COMPONENTS.join(', ')}),${CLUSTER_NAME_LABEL}=${name}`);
    const controllers = await client.get<{ items?: Array<{ status?: { availableReplicas?: number } }> }>(
      `/apis/apps/v1/namespaces/${MULTICLUSTER_NAMESPACE}/deployments?labelSelector=${selector}`,
    );
    if (!(controllers.items ?? []).some((d) => (d.status?.availableReplicas ?? 0) > 0)) continue; // no leader to ask
    const mirrors = await client.get<{ items?: unknown[] }>(
      `/api/v1/services?labelSelector=${encodeURIComponent(`${MIRRORED_SERVICE_LABEL}=true,${CLUSTER_NAME_LABEL}=${name}`)}`,
    );
    rows.push({ cluster: name, alive: await gatewayAlive(client, link), services: (mirrors.items ?? []).length });
  }
  return rows.sort((a, b) => a.cluster.localeCompare(b.cluster));
}

/** The table the CLI prints. */
export function renderGateways(rows: Row[]): string {
  const table = [
    ['CLUSTER', 'ALIVE', 'NUM_SVC', 'LATENCY'],
    ...rows.map((r) => [r.cluster, r.alive ? 'True' : 'False', String(r.services), r.alive ? '1ms' : '-']),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return `${table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
