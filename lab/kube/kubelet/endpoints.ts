/**
 * LAB EMULATION of kube-controller-manager's endpoints controller: each Service with a selector gets
 * an Endpoints object of the same name listing the pods it selects, ready ones under `addresses` and
 * the others under `notReadyAddresses`, one port per Service port (a named targetPort resolved through
 * the pod's container ports). Linkerd's gateway liveness, its service mirror (east's exported
 * Services) and FailoverToEast's readiness read these.
 *
 * Simplified: one subset (the real controller groups pods by their resolved ports); no EndpointSlices
 * (readers fall back to Endpoints, as they do for mirrored services); loopback pod addresses (host
 * network pods on the lab's loopback hosts) are left out, since the API server refuses them in
 * Endpoints as it would refuse them from the real controller.
 */
import { sameJson } from '../../mesh/mirror/same';
import { type KubeClient, type KubeObject } from '../client';
import { ignoreGone } from './workloads';
import { podReady } from './workloadStatus';

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
}

interface PodView {
  metadata?: KubeObject['metadata'];
  spec?: { nodeName?: string; containers?: Array<{ ports?: Array<{ name?: string; containerPort?: number }> }> };
  status?: { podIP?: string; phase?: string };
}

/** Whether the pod's labels carry every key and value of the selector. */
export function selects(selector: Record<string, string>, pod: KubeObject): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** The port a Service port reaches on a pod: a number, or a container port found by name. */
function targetPort(port: ServicePort, pod: PodView | undefined): number | undefined {
  if (port.targetPort === undefined) return port.port;
  if (typeof port.targetPort === 'number') return port.targetPort;
  if (/^\d+$/.test(port.targetPort)) return Number(port.targetPort);
  for (const container of pod?.spec?.containers ?? []) {
    const found = container.ports?.find((p) => p.name === port.targetPort);
    if (found?.containerPort) return found.containerPort;
  }
  return undefined;
}

/** The subsets the endpoints controller would write for `service` from `pods`. */
export function endpointSubsets(service: KubeObject, pods: KubeObject[]): Array<Record<string, unknown>> {
  const spec = (service.spec ?? {}) as { selector?: Record<string, string>; ports?: ServicePort[] };
  const chosen = pods.filter(
    (p) =>
      selects(spec.selector ?? {}, p) &&
      !p.metadata?.deletionTimestamp &&
      (p as PodView).status?.podIP &&
      !(p as PodView).status?.podIP?.startsWith('127.') &&
      !['Succeeded', 'Failed'].includes((p as PodView).status?.phase ?? ''),
  ) as PodView[];
  if (!chosen.length) return [];
  const ports = (spec.ports ?? [])
    .map((p) => ({ ...(p.name ? { name: p.name } : {}), port: targetPort(p, chosen[0]), protocol: p.protocol ?? 'TCP' }))
    .filter((p) => p.port !== undefined);
  const address = (pod: PodView) => ({
    ip: pod.status?.podIP,
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  });
  const byName = (a: PodView, b: PodView) => String(a.metadata?.name).localeCompare(String(b.metadata?.name));
  const ready = chosen.filter((p) => podReady(p as KubeObject)).sort(byName);
  const notReady = chosen.filter((p) => !podReady(p as KubeObject)).sort(byName);
  return [
    {
      ...(ready.length ? { addresses: ready.map(address) } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady.map(address) } : {}),
      ports,
    },
  ];
}

/** One pass: every selector Service's Endpoints brought in line with its pods. Returns what was written. */
export async function syncEndpoints(client: KubeClient): Promise<string[]> {
  const services = (await client.get<{ items: KubeObject[] }>('/api/v1/services')).items;
  const pods = (await client.get<{ items: KubeObject[] }>('/api/v1/pods')).items;
  const written: string[] = [];
  for (const service of services) {
    const selector = (service.spec as { selector?: Record<string, string> } | undefined)?.selector;
    if (!selector || !Object.keys(selector).length) continue;
    const namespace = service.metadata?.namespace as string;
    const name = service.metadata?.name as string;
    const subsets = endpointSubsets(
      service,
      pods.filter((p) => p.metadata?.namespace === namespace),
    );
    const labels = service.metadata?.labels ?? {};
    const path = `/api/v1/namespaces/${namespace}/endpoints/${encodeURIComponent(name)}`;
    const current = await client.find(path);
    const currentSubsets = (current?.subsets as unknown[] | undefined) ?? [];
    if (current && sameJson(currentSubsets, subsets) && sameJson(current.metadata?.labels ?? {}, labels)) continue;
    const object = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets };
    if (current) await client.put(path, { ...object, metadata: { ...object.metadata, resourceVersion: current.metadata?.resourceVersion } }).catch(ignoreGone);
    else await client.create(`/api/v1/namespaces/${namespace}/endpoints`, object).catch(ignoreGone);
    written.push(`${namespace}/${name}`);
  }
  return written;
}
