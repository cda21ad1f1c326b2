/**
 * Exported services and their mirrors. East's Services get `mirror.linkerd.io/exported=true`; west's
 * service mirror then creates `<svc>-<east>` whose endpoints must be east's gateway. The seed compares
 * `.status.loadBalancer.ingress[*].ip`, which is empty on AWS, whose load balancers report a hostname:
 * here hostnames are resolved before comparing.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { ExportedService } from '../../common/inputs/linkMeshClusters';
import type { KubeClient } from '../kubernetes/client';
import { KubeApiError } from '../kubernetes/errors';
import { GATEWAY_SERVICE, MULTICLUSTER_NAMESPACE } from './clusterState';
import type { GatewayAddress, MirrorStatus } from './types';

/** The label that exports a Service (the Link's default selector). */
export const EXPORT_LABEL = 'mirror.linkerd.io/exported';
/** The gateway Service's port that carries mirrored traffic. */
export const GATEWAY_PORT_NAME = 'mc-gateway';
/** Labels the service mirror puts on mirrors. */
export const MIRRORED_LABEL = 'mirror.linkerd.io/mirrored-service';
export const CLUSTER_LABEL = 'mirror.linkerd.io/cluster-name';

/** Resolves a hostname to its IPv4/IPv6 addresses. */
export type Resolver = (hostname: string) => Promise<string[]>;

/** The default {@link Resolver}: the system's resolver, every address. */
export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true })).map((a) => a.address);

interface ServiceObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { type?: string; ports?: Array<{ name?: string; port?: number; nodePort?: number }> };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
}
interface EndpointsObject {
  subsets?: Array<{ addresses?: Array<{ ip?: string }>; ports?: Array<{ port?: number }> }>;
}
interface LinkObject {
  spec?: { gatewayAddress?: string; gatewayPort?: string };
}

const servicePath = (ns: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/services/${encodeURIComponent(name)}`;
const endpointsPath = (ns: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/endpoints/${encodeURIComponent(name)}`;

/** Resolves a list of IPs and hostnames to IPs (sorted, unique). An unresolvable name is an error. */
export async function resolveAddresses(reported: string[], resolve: Resolver): Promise<string[]> {
  const ips = new Set<string>();
  for (const address of reported) {
    if (isIP(address)) {
      ips.add(address);
      continue;
    }
    let resolved: string[];
    try {
      resolved = await resolve(address);
    } catch (err) {
      throw kubehaFailure({
        type: ErrorType.Unreachable,
        message: `gateway hostname ${address} does not resolve: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        retryable: true,
        hint: 'a new cloud load balancer takes a few minutes to appear in DNS; the worker must resolve it as the clusters do',
      });
    }
    resolved.forEach((ip) => ips.add(ip));
  }
  return [...ips].sort();
}

/**
 * East's gateway address: the Link's `gatewayAddress` on west when there is a Link (it may override the
 * Service), else the gateway Service's load balancer ingress (IP, else hostname), resolved to IPs.
 */
export async function gatewayAddress(east: KubeClient, west: KubeClient | undefined, linkName: string, resolve: Resolver): Promise<GatewayAddress> {
  let reported: string[] = [];
  let port: number | undefined;
  if (west) {
    const link = await west
      .find<LinkObject>(`/apis/multicluster.linkerd.io/v1alpha3/namespaces/${MULTICLUSTER_NAMESPACE}/links/${encodeURIComponent(linkName)}`)
      .catch(() => undefined);
    if (link?.spec?.gatewayAddress)
      reported = link.spec.gatewayAddress
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (link?.spec?.gatewayPort) port = Number(link.spec.gatewayPort);
  }
  if (reported.length === 0) {
    const gateway = await east.find<ServiceObject>(servicePath(MULTICLUSTER_NAMESPACE, GATEWAY_SERVICE));
    if (!gateway) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        message: `east has no gateway Service ${MULTICLUSTER_NAMESPACE}/${GATEWAY_SERVICE}`,
        retryable: false,
        hint: 'run the multicluster-install step on east (with the gateway enabled)',
      });
    }
    reported = (gateway.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean);
    const gwPort = gateway.spec?.ports?.find((p) => p.name === GATEWAY_PORT_NAME);
    port ??= gateway.spec?.type === 'NodePort' ? gwPort?.nodePort : gwPort?.port;
  }
  const ips = await resolveAddresses(reported, resolve);
  return port ? { reported, ips, port } : { reported, ips };
}

/** Labels each Service on east as exported, unless it already is. Missing Services fail, named. */
export async function exportServices(
  east: KubeClient,
  services: ExportedService[],
  dryRun: boolean,
): Promise<{ labelled: string[]; alreadyExported: string[] }> {
  const labelled: string[] = [];
  const alreadyExported: string[] = [];
  const missing: string[] = [];
  const found: ExportedService[] = [];
  for (const svc of services) {
    const object = await east.find<ServiceObject>(servicePath(svc.namespace, svc.name));
    if (!object) missing.push(`${svc.namespace}/${svc.name}`);
    else if (object.metadata?.labels?.[EXPORT_LABEL] === 'true') alreadyExported.push(`${svc.namespace}/${svc.name}`);
    else found.push(svc);
  }
  // Check every service before labelling any: a typo fails the step without a half-done export.
  if (missing.length) {
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      message: `east has no Service ${missing.join(', ')}`,
      retryable: false,
      hint: 'deploy the service on east first, or fix services[] in the input',
      details: { missing },
    });
  }
  for (const svc of found) {
    const body = JSON.stringify({ metadata: { labels: { [EXPORT_LABEL]: 'true' } } });
    const query = dryRun ? '?dryRun=All' : '';
    const res = await east.request('PATCH', `${servicePath(svc.namespace, svc.name)}${query}`, body, 'application/merge-patch+json');
    if (res.status < 200 || res.status > 299) throw east.failure(new KubeApiError(res.status, res.body), `label Service ${svc.namespace}/${svc.name} exported`);
    labelled.push(`${svc.namespace}/${svc.name}`);
  }
  return { labelled, alreadyExported };
}

/** Every Service east exports (for `kubeha check mesh`, which has no service list). */
export async function exportedServices(east: KubeClient): Promise<ExportedService[]> {
  const list = await east.get<{ items?: ServiceObject[] }>(`/api/v1/services?labelSelector=${encodeURIComponent(`${EXPORT_LABEL}=true`)}`);
  return (list.items ?? []).map((s) => ({ namespace: s.metadata?.namespace ?? 'default', name: s.metadata?.name ?? '' })).filter((s) => s.name);
}

/** One look at the mirror of `svc` on west: exists, and its endpoints are exactly the gateway's IPs. */
export async function mirrorStatus(west: KubeClient, svc: ExportedService, eastName: string, gateway: GatewayAddress): Promise<MirrorStatus> {
  const mirror = `${svc.name}-${eastName}`;
  const base = { service: `${svc.namespace}/${svc.name}`, mirror: `${svc.namespace}/${mirror}` };
  const object = await west.find<ServiceObject>(servicePath(svc.namespace, mirror));
  if (!object) return { ...base, exists: false, endpointIps: [], pointsAtGateway: false, message: `mirror ${base.mirror} does not exist on west yet` };
  const endpoints = await west.find<EndpointsObject>(endpointsPath(svc.namespace, mirror));
  const ips = [...new Set((endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip ?? '')).filter(Boolean))].sort();
  const ports = [...new Set((endpoints?.subsets ?? []).flatMap((s) => (s.ports ?? []).map((p) => p.port)))];
  const sameIps = ips.length > 0 && ips.length === gateway.ips.length && ips.every((ip, i) => ip === gateway.ips[i]);
  const portOk = gateway.port === undefined || ports.includes(gateway.port);
  const pointsAtGateway = sameIps && portOk;
  let message: string;
  if (ips.length === 0) message = `mirror ${base.mirror} has no endpoints yet`;
  else if (!sameIps)
    message = `mirror ${base.mirror} points at ${ips.join(', ')}, but east's gateway is ${gateway.ips.join(', ') || 'unknown'} (${gateway.reported.join(', ')})`;
  else if (!portOk) message = `mirror ${base.mirror} targets port(s) ${ports.join(', ')}, but the gateway listens on ${gateway.port}`;
  else message = `mirror ${base.mirror} points at east's gateway ${ips.join(', ')}${gateway.port ? `:${gateway.port}` : ''}`;
  return { ...base, exists: true, endpointIps: ips, pointsAtGateway, message };
}
