/**
 * Counting a Service's ready endpoints: from its EndpointSlices when the cluster has any for it (what
 * kube-proxy and Linkerd's destination service read), else from its Endpoints object (Linkerd's service
 * mirror writes the mirrored services' Endpoints itself, pointing at the remote gateway).
 */
import type { KubeClient } from '../kubernetes/client';
import type { ServiceReadiness } from './types';

interface EndpointSliceList {
  items?: Array<{ endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean } }> }>;
}

interface EndpointsObject {
  subsets?: Array<{ addresses?: unknown[]; notReadyAddresses?: unknown[] }>;
}

/** Reads the readiness of `namespace/name`. API errors propagate (the caller maps them). */
export async function readServiceReadiness(client: KubeClient, namespace: string, name: string): Promise<ServiceReadiness> {
  const ns = encodeURIComponent(namespace);
  const service = `${namespace}/${name}`;
  const exists = (await client.find(`/api/v1/namespaces/${ns}/services/${encodeURIComponent(name)}`)) !== undefined;
  if (!exists) return { service, ready: 0, notReady: 0, source: 'none', serviceExists: false };

  const selector = encodeURIComponent(`kubernetes.io/service-name=${name}`);
  const slices = await client.find<EndpointSliceList>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${selector}`);
  if (slices?.items?.length) {
    let ready = 0;
    let notReady = 0;
    for (const slice of slices.items) {
      for (const endpoint of slice.endpoints ?? []) {
        // The API's rule: an absent `ready` condition means ready.
        if (endpoint.conditions?.ready === false) notReady += 1;
        else ready += 1;
      }
    }
    return { service, ready, notReady, source: 'EndpointSlice', serviceExists: true };
  }

  const endpoints = await client.find<EndpointsObject>(`/api/v1/namespaces/${ns}/endpoints/${encodeURIComponent(name)}`);
  if (!endpoints) return { service, ready: 0, notReady: 0, source: 'none', serviceExists: true };
  const subsets = endpoints.subsets ?? [];
  return {
    service,
    ready: subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0),
    notReady: subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0),
    source: 'Endpoints',
    serviceExists: true,
  };
}
