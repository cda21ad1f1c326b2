/**
 * Applies the LAB STAND-INS for Linkerd multicluster (lab/mesh/objects.ts) to the lab's real API
 * servers: east's gateway and exported services, west's mirrors and split. Linkerd's CLI cannot be
 * installed on the lab's machines (lab/README.md, "Mesh stand-ins"), so FailoverToEast's precheck,
 * shift and verification read these objects instead of Linkerd's. Server-side apply: a second run
 * changes nothing and puts a split moved by hand back to west.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient, type KubeObject } from '../kube/client';
import { parseKubeconfig } from '../kube/kubeconfig';
import { applyObject, serves } from './apply';
import {
  eastObjects,
  GATEWAY_SERVICE,
  MULTICLUSTER_NAMESPACE,
  gatewayStatus,
  LAB_MESH_SERVICES,
  LAB_SPLIT_API_VERSION,
  meshAddresses,
  STAND_IN_MANAGER,
  westObjects,
  type LabMeshService,
  type MeshAddresses,
} from './objects';
import { trafficSplitCrd } from './trafficSplitCrd';

export * from './objects';
export { trafficSplitCrd } from './trafficSplitCrd';

/** One cluster of the pair, as the stand-ins reach it. */
export interface MeshCluster {
  name: string;
  /** An admin kubeconfig (text) whose current context is this cluster. */
  kubeconfig: string;
  /** The moto VPC CIDR of the cluster (addresses are cut from it). */
  vpcCidr: string;
  /** The Node the stand-in pods claim to run on. */
  node: string;
}

/** Options of {@link applyMeshStandIns}. */
export interface MeshStandInOptions {
  west: MeshCluster;
  east: MeshCluster;
  services?: readonly LabMeshService[];
  /** How long the TrafficSplit CRD may take to be served. Default 30000 ms. */
  crdTimeoutMs?: number;
}

/** What was applied. */
export interface MeshStandIns {
  addresses: MeshAddresses;
  services: readonly LabMeshService[];
  /** `<cluster>: <Kind> <namespace>/<name>` per object. */
  applied: string[];
}

function clientFor(kubeconfig: string): KubeClient {
  return new KubeClient(parseKubeconfig(kubeconfig), 15_000);
}

async function applyAll(client: KubeClient, cluster: string, objects: KubeObject[], applied: string[]): Promise<void> {
  for (const object of objects) {
    try {
      await applyObject(client, object, STAND_IN_MANAGER);
    } catch (err) {
      throw new Error(
        `cannot apply the stand-in ${String(object.kind)} ${object.metadata?.namespace ?? ''}/${object.metadata?.name} on ${cluster}: ${(err as Error).message}`,
      );
    }
    applied.push(`${cluster}: ${String(object.kind)} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`);
  }
}

/** Waits until the API serves TrafficSplit (the CRD is Established and discovery lists it). */
async function waitServed(client: KubeClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await serves(client, LAB_SPLIT_API_VERSION, 'TrafficSplit').catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`west does not serve TrafficSplit in ${LAB_SPLIT_API_VERSION} ${timeoutMs} ms after the CRD was applied`);
    await sleep(250);
  }
}

/** Applies every stand-in: east first (the mirrors point at its gateway), then west. */
export async function applyMeshStandIns(options: MeshStandInOptions): Promise<MeshStandIns> {
  const services = options.services ?? LAB_MESH_SERVICES;
  const addresses = meshAddresses(options.west.vpcCidr, options.east.vpcCidr);
  const applied: string[] = [];
  const east = clientFor(options.east.kubeconfig);
  const west = clientFor(options.west.kubeconfig);

  await applyAll(east, options.east.name, eastObjects(services, addresses, options.east.node), applied);
  // What the cloud controller would report once the gateway's load balancer exists.
  const status = await east.request(
    'PATCH',
    `/api/v1/namespaces/${MULTICLUSTER_NAMESPACE}/services/${GATEWAY_SERVICE}/status`,
    JSON.stringify(gatewayStatus(addresses)),
    'application/merge-patch+json',
  );
  if (status.status < 200 || status.status > 299)
    throw new Error(`cannot set the gateway's load balancer status on ${options.east.name}: HTTP ${status.status} ${JSON.stringify(status.body)}`);

  await applyAll(west, options.west.name, [trafficSplitCrd()], applied);
  await waitServed(west, options.crdTimeoutMs ?? 30_000);
  await applyAll(west, options.west.name, westObjects(services, addresses, options.east.name, options.west.node), applied);
  return { addresses, services, applied };
}
