/**
 * One pass of the service mirror for one Link: read the linked cluster's Services, keep a mirror and
 * its gateway Endpoints for each exported one, delete the mirrors whose Service is gone or no longer
 * exported, refresh the probe Endpoints, and record each Service's outcome in the Link's status.
 * Where Linkerd's controller reacts to informer events, this reconciles the whole state each pass;
 * the objects and the decisions are the controller's.
 */
import type { KubeClient } from '../../kube/client';
import { CLUSTER_NAME_LABEL, MIRRORED_SERVICE_LABEL } from '../cli/names';
import { type LinkResource, remoteClient, type Resolver, resolveGateway } from './link';
import { type EndpointsObject, mirrorEndpoints, mirrorName, mirrorPorts, mirrorService, probeEndpoints, type ServiceObject } from './objects';
import { sameJson } from './same';
import { selects } from './selector';
import { type MirrorOutcome, mirrorStatuses, REASON_ERROR, REASON_MIRRORED, REASON_MISSING_NAMESPACE, writeMirrorStatuses } from './status';
import type { WriteRecorder } from './writes';

/** How the pass behaves, as the controller's flags set it. */
export interface LinkSyncSettings {
  /** `-enable-namespace-creation`: create a missing namespace instead of skipping the Service. */
  namespaceCreation: boolean;
  /** The probe Service whose Endpoints the controller keeps (`-probe-service`). */
  probeService: string;
  resolve?: Resolver;
  remoteTimeoutMs: number;
}

/** What the pass did for the Link. */
export interface LinkSyncResult {
  link: string;
  targetCluster: string;
  gateway: string[];
  outcomes: MirrorOutcome[];
}

const key = (o: { metadata: { name: string; namespace: string } }) => `${o.metadata.namespace}/${o.metadata.name}`;
const servicesPath = (ns: string) => `/api/v1/namespaces/${ns}/services`;
const endpointsPath = (ns: string) => `/api/v1/namespaces/${ns}/endpoints`;

/** Whether the remote Service has a ready endpoint (the controller leaves an empty one's mirror without addresses). */
async function remoteReady(remote: KubeClient, svc: ServiceObject): Promise<boolean> {
  const ep = await remote.find<EndpointsObject>(`${endpointsPath(svc.metadata.namespace)}/${svc.metadata.name}`);
  return (ep?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0);
}

/** The ports as the mirror compares them (the server fills protocol and targetPort). */
const comparablePorts = (svc: ServiceObject) => mirrorPorts(svc).map((p) => ({ ...p, targetPort: p.targetPort ?? p.port }));

/** Creates the mirror Service or brings an existing one's labels, annotations and ports in line. */
async function keepService(w: WriteRecorder, desired: ServiceObject, existing: ServiceObject | undefined): Promise<void> {
  const ns = desired.metadata.namespace;
  if (!existing) {
    await w.create(servicesPath(ns), 'Service', desired);
    return;
  }
  const same =
    sameJson(existing.metadata.labels ?? {}, desired.metadata.labels) &&
    sameJson(existing.metadata.annotations ?? {}, desired.metadata.annotations) &&
    sameJson(comparablePorts(existing), comparablePorts(desired));
  if (same) return;
  const updated = {
    ...existing,
    metadata: { ...existing.metadata, labels: desired.metadata.labels, annotations: desired.metadata.annotations },
    spec: { ...existing.spec, ports: desired.spec?.ports },
  };
  await w.update(`${servicesPath(ns)}/${desired.metadata.name}`, 'Service', updated);
}

/** Creates the Endpoints or updates their subsets and annotations (labels stay as created, as the controller leaves them). */
async function keepEndpoints(w: WriteRecorder, desired: EndpointsObject, existing: EndpointsObject | undefined): Promise<void> {
  const ns = desired.metadata.namespace;
  if (!existing) {
    await w.create(endpointsPath(ns), 'Endpoints', desired);
    return;
  }
  const annotations = { ...existing.metadata.annotations, ...desired.metadata.annotations };
  if (sameJson(existing.subsets ?? [], desired.subsets ?? []) && sameJson(existing.metadata.annotations ?? {}, annotations)) return;
  await w.update(`${endpointsPath(ns)}/${desired.metadata.name}`, 'Endpoints', {
    ...existing,
    metadata: { ...existing.metadata, annotations },
    subsets: desired.subsets,
  });
}

/** Mirrors one exported Service; answers its outcome. */
async function mirrorOne(w: WriteRecorder, ctx: PassContext, svc: ServiceObject): Promise<MirrorOutcome> {
  const { link, settings } = ctx;
  const remoteRef = { name: svc.metadata.name, namespace: svc.metadata.namespace };
  const ns = svc.metadata.namespace;
  if (!ctx.namespaces.has(ns)) {
    if (!settings.namespaceCreation) return { remote: remoteRef, mirrored: false, reason: REASON_MISSING_NAMESPACE, message: 'Namespace does not exist' };
    const labels = { [MIRRORED_SERVICE_LABEL]: 'true', [CLUSTER_NAME_LABEL]: link.spec.targetClusterName };
    await w.create('/api/v1/namespaces', 'Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } });
    ctx.namespaces.add(ns);
  }
  const desired = mirrorService(svc, link);
  const existing = ctx.mirrors.get(key(desired));
  if (!existing && (await w.client.find(`${servicesPath(ns)}/${desired.metadata.name}`))) {
    // A Service of that name that is not this Link's mirror: the controller's create fails on it.
    return {
      remote: remoteRef,
      mirrored: false,
      reason: REASON_ERROR,
      message: `Failed to create mirror service: services "${desired.metadata.name}" already exists`,
    };
  }
  await keepService(w, desired, existing);
  const endpoints = mirrorEndpoints(svc, link, ctx.gateway, await remoteReady(ctx.remote, svc));
  await keepEndpoints(w, endpoints, ctx.endpoints.get(key(endpoints)));
  return { remote: remoteRef, mirrored: true, reason: REASON_MIRRORED, message: '', local: { name: desired.metadata.name, namespace: ns } };
}

interface PassContext {
  link: LinkResource;
  settings: LinkSyncSettings;
  remote: KubeClient;
  gateway: string[];
  namespaces: Set<string>;
  mirrors: Map<string, ServiceObject>;
  endpoints: Map<string, EndpointsObject>;
}

/** Lists what the pass compares: the remote Services, the local namespaces, this Link's mirrors and their Endpoints. */
async function readState(local: KubeClient, link: LinkResource, settings: LinkSyncSettings): Promise<{ ctx: PassContext; services: ServiceObject[] }> {
  const remote = await remoteClient(local, link, settings.remoteTimeoutMs);
  const gateway = await resolveGateway(link, settings.resolve);
  const services = (await remote.get<{ items?: ServiceObject[] }>('/api/v1/services')).items ?? [];
  const namespaces = (await local.get<{ items?: Array<{ metadata: { name: string } }> }>('/api/v1/namespaces')).items ?? [];
  const selector = encodeURIComponent(`${MIRRORED_SERVICE_LABEL}=true,${CLUSTER_NAME_LABEL}=${link.spec.targetClusterName}`);
  const mirrors = (await local.get<{ items?: ServiceObject[] }>(`/api/v1/services?labelSelector=${selector}`)).items ?? [];
  const endpoints = (await local.get<{ items?: EndpointsObject[] }>(`/api/v1/endpoints?labelSelector=${selector}`)).items ?? [];
  const ctx: PassContext = {
    link,
    settings,
    remote,
    gateway,
    namespaces: new Set(namespaces.map((n) => n.metadata.name)),
    mirrors: new Map(mirrors.map((m) => [key(m), m])),
    endpoints: new Map(endpoints.map((e) => [key(e), e])),
  };
  return { ctx, services };
}

/** Runs the pass for `link`, writing through `w`. Throws when the linked cluster or its gateway cannot be reached (nothing is deleted then). */
export async function syncLink(local: KubeClient, w: WriteRecorder, link: LinkResource, settings: LinkSyncSettings): Promise<LinkSyncResult> {
  const { ctx, services } = await readState(local, link, settings);
  const exported = services.filter((s) => selects(link.spec.selector, s.metadata.labels)).sort((a, b) => key(a).localeCompare(key(b)));
  const outcomes: MirrorOutcome[] = [];
  for (const svc of exported) outcomes.push(await mirrorOne(w, ctx, svc));
  // Mirrors whose remote Service is gone or no longer exported (the controller's unexport and orphan GC).
  const wanted = new Set(exported.map((s) => `${s.metadata.namespace}/${mirrorName(s.metadata.name, link)}`));
  for (const [k, mirror] of ctx.mirrors) {
    if (wanted.has(k)) continue;
    const { namespace, name } = mirror.metadata;
    await w.remove(`${servicesPath(namespace)}/${name}`, 'Service', namespace, name);
    // Kubernetes' endpoints controller deletes a deleted Service's Endpoints; the lab has none to do it.
    if (ctx.endpoints.has(k)) await w.remove(`${endpointsPath(namespace)}/${name}`, 'Endpoints', namespace, name);
  }
  const probe = probeEndpoints(link, settings.probeService, ctx.gateway);
  await keepEndpoints(w, probe, await local.find<EndpointsObject>(`${endpointsPath(link.metadata.namespace)}/${settings.probeService}`));
  if (await writeMirrorStatuses(local, link, mirrorStatuses(link.status?.mirrorServices ?? [], outcomes)))
    w.status('Link', link.metadata.namespace, link.metadata.name);
  return { link: link.metadata.name, targetCluster: link.spec.targetClusterName, gateway: ctx.gateway, outcomes };
}
