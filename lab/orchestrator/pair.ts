/**
 * The lab's west/east pair once both clusters are bootstrapped (`kubeha lab kubeconfig`):
 * - `inputs/kubeconfig`: ONE kubeconfig with a `west` and an `east` context, each cluster's admin
 *   credentials read from its primary host's own admin.conf, the server its load balancer's DNS name;
 * - `inputs/failover-to-east.json`: FailoverToEast for the pair (lab/orchestrator/inputs.ts), with each
 *   service's Route 53 record pair created in moto where missing (gtm.ts);
 * - `inputs/webhook-routes.yaml` and `inputs/webhook-token`: `kubeha webhook --config` for it;
 * - `inputs/link-mesh-clusters.json`: LinkMeshClusters for the pair;
 * - the demo application on both clusters, its greeters, and the lab mesh supervisor (service load
 *   balancers, east's gateway, west's service mirror), so that LinkMeshClusters finds what a real
 *   pair of clusters would offer it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { BootstrapStackedEtcdInput } from '../../common/inputs/bootstrapStackedEtcd';
import type { FailoverToEastInput } from '../../common/inputs/failoverToEast';
import type { LabAwsStatus } from '../aws';
import { labHostPaths } from '../hosts/layout';
import { KubeClient } from '../kube/client';
import { parseKubeconfig } from '../kube/kubeconfig';
import { deployLabDemo, LAB_DEMO_SERVICES } from '../mesh/demo';
import { failoverInput, linkMeshInput, loadBalancerName, webhookRoutes } from './inputs';
import { startMeshSupervisor } from './meshControl';
import { labPaths, readLabState, type LabPaths, type LabState, type LabStateHost } from './state';
import { greeterHost, type LabGreeters, startLabGreeters } from './greeters';
import { ensureLabGtm } from './gtm';

/** The pair's cluster names in the lab topology. */
export const LAB_PAIR = { west: 'west', east: 'east' } as const;

/**
 * The HTTPRoute version of west's split: the newest one the lab linkerd's CRDs serve (no Gateway API
 * CRDs), which LinkMeshClusters picks for the split and FailoverToEast must then move.
 */
export const LAB_SPLIT_API_VERSION = 'policy.linkerd.io/v1beta3' as const;

/** Files written by {@link writeLabPairFiles}. */
export interface LabPairFiles {
  kubeconfig: string;
  failoverInput: string;
  webhookConfig: string;
  webhookToken: string;
  /** LinkMeshClusters' input for the pair. */
  linkInput: string;
  /** Each cluster's API server URL (its load balancer's DNS name, port 6443). */
  servers: Record<string, string>;
}

/** Options of {@link writeLabPairFiles}. */
export interface LabPairOptions {
  dataDir?: string;
  /** FailoverToEast's hysteresis window (default 30 s). */
  hysteresisSeconds?: number;
  onFailure?: 'wait' | 'fail';
  /** The webhook's listen port in the routing file (default 9095). */
  webhookPort?: number;
}

function running(dataDir?: string): { paths: LabPaths; state: LabState } {
  const paths = labPaths(dataDir);
  const state = readLabState(paths);
  if (!state?.aws) throw new Error('the lab is down: `kubeha lab up` first');
  for (const name of Object.values(LAB_PAIR)) {
    if (!state.topology.clusters.some((c) => c.name === name)) throw new Error(`the lab topology has no cluster "${name}": the pair needs west and east`);
  }
  return { paths, state };
}

/** The lab AWS data plane's view: load balancers, their DNS names, listeners and targets. */
export async function readLabAwsStatus(state: LabState): Promise<LabAwsStatus> {
  const response = await fetch(`${state.aws?.endpoint}/kubeha-lab/status`);
  if (!response.ok) throw new Error(`the lab AWS status answered HTTP ${response.status}`);
  return (await response.json()) as LabAwsStatus;
}

/** The cluster's primary: its first control-plane host (the one `kubeadm init` ran on). */
export function primaryHost(state: LabState, cluster: string): LabStateHost {
  const host = state.hosts.find((h) => h.cluster === cluster && h.role === 'control-plane');
  if (!host) throw new Error(`cluster ${cluster} has no control-plane host`);
  return host;
}

/** The cluster's API load balancer in the lab AWS status, or an error saying the cluster is not bootstrapped. */
export function clusterLoadBalancer(state: LabState, status: LabAwsStatus, cluster: string): LabAwsStatus['loadBalancers'][number] {
  const name = loadBalancerName(cluster, state.topology.hostsBlockLabel);
  const lb = status.loadBalancers.find((l) => l.name === name);
  if (!lb)
    throw new Error(
      `cluster ${cluster} has no load balancer ${name} yet: bootstrap it first (kubeha bootstrap -f ${state.inputs[cluster] ?? `inputs/bootstrap-${cluster}.json`})`,
    );
  return lb;
}

interface AdminConf {
  clusters?: Array<{ cluster?: Record<string, unknown> }>;
  users?: Array<{ user?: Record<string, unknown> }>;
}

/** The admin.conf kubeadm wrote on the cluster's primary, read from the host's own folder. */
function readAdminConf(paths: LabPaths, state: LabState, cluster: string): { caData: string; user: Record<string, unknown> } {
  const primary = primaryHost(state, cluster);
  const file = path.join(labHostPaths(paths.labDir, primary.name).rootDir, 'etc', 'kubernetes', 'admin.conf');
  if (!existsSync(file)) throw new Error(`${primary.name} has no /etc/kubernetes/admin.conf: cluster ${cluster} is not bootstrapped yet`);
  const doc = parse(readFileSync(file, 'utf8')) as AdminConf;
  const caData = doc.clusters?.[0]?.cluster?.['certificate-authority-data'];
  const user = doc.users?.[0]?.user;
  if (typeof caData !== 'string' || !user) throw new Error(`${file} has no cluster CA or no user`);
  return { caData, user };
}

/** One kubeconfig, one context per cluster (named after it), the first cluster's context current. */
export function renderPairKubeconfig(entries: Array<{ name: string; server: string; caData: string; user: Record<string, unknown> }>): string {
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: entries.map((e) => ({ name: e.name, cluster: { server: e.server, 'certificate-authority-data': e.caData } })),
      users: entries.map((e) => ({ name: `kubernetes-admin@${e.name}`, user: e.user })),
      contexts: entries.map((e) => ({ name: e.name, context: { cluster: e.name, user: `kubernetes-admin@${e.name}` } })),
      'current-context': entries[0]?.name ?? '',
      preferences: {},
    },
    { lineWidth: 0 },
  );
}

/** The same kubeconfig with `context` current (what `kubectl --context` reads). */
export function withContext(kubeconfig: string, context: string): string {
  const doc = parse(kubeconfig) as { contexts?: Array<{ name?: string }>; 'current-context'?: string };
  if (!doc.contexts?.some((c) => c.name === context)) throw new Error(`the kubeconfig has no context "${context}"`);
  return stringify({ ...doc, 'current-context': context }, { lineWidth: 0 });
}

function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Writes the pair's kubeconfig, FailoverToEast input and webhook routing file (and its token, once). */
export async function writeLabPairFiles(options: LabPairOptions = {}): Promise<LabPairFiles> {
  const { paths, state } = running(options.dataDir);
  const status = await readLabAwsStatus(state);
  const servers: Record<string, string> = {};
  const entries = Object.values(LAB_PAIR).map((cluster) => {
    const lb = clusterLoadBalancer(state, status, cluster);
    servers[cluster] = `https://${lb.dnsName}:6443`;
    return { name: cluster, server: servers[cluster], ...readAdminConf(paths, state, cluster) };
  });
  const kubeconfig = path.join(paths.inputsDir, 'kubeconfig');
  writePrivate(kubeconfig, renderPairKubeconfig(entries));

  const westLb = clusterLoadBalancer(state, status, LAB_PAIR.west);
  const targetGroupArn = westLb.listeners.find((l) => l.port === 6443)?.targetGroupArns[0];
  if (!targetGroupArn) throw new Error(`west's load balancer ${westLb.name} has no listener on 6443 yet`);
  const westBootstrap = JSON.parse(readFileSync(state.inputs[LAB_PAIR.west], 'utf8')) as BootstrapStackedEtcdInput;
  const route53Endpoint = westBootstrap.aws.endpoint ?? state.aws!.endpoint;
  const records = await ensureLabGtm({
    endpoint: route53Endpoint,
    services: LAB_DEMO_SERVICES,
    westAddress: greeterHost(state, LAB_PAIR.west).address,
    eastAddress: greeterHost(state, LAB_PAIR.east).address,
  });
  const failover: FailoverToEastInput = failoverInput({
    west: LAB_PAIR.west,
    east: LAB_PAIR.east,
    westBootstrap,
    targetGroupArn,
    services: LAB_DEMO_SERVICES,
    splitApiVersion: LAB_SPLIT_API_VERSION,
    hysteresisSeconds: options.hysteresisSeconds,
    onFailure: options.onFailure,
    gtm: { endpoint: route53Endpoint, records },
  });
  const failoverFile = path.join(paths.inputsDir, 'failover-to-east.json');
  writeFileSync(failoverFile, `${JSON.stringify(failover, null, 2)}\n`);

  const webhookToken = path.join(paths.inputsDir, 'webhook-token');
  if (!existsSync(webhookToken)) writePrivate(webhookToken, `${randomBytes(32).toString('base64url')}\n`);
  const webhookConfig = path.join(paths.inputsDir, 'webhook-routes.yaml');
  writeFileSync(webhookConfig, stringify(webhookRoutes({ failover, tokenFile: webhookToken, port: options.webhookPort }), { lineWidth: 0 }));
  const linkInput = path.join(paths.inputsDir, 'link-mesh-clusters.json');
  const link = linkMeshInput({ west: LAB_PAIR.west, east: LAB_PAIR.east, kubeconfigFile: kubeconfig, services: LAB_DEMO_SERVICES });
  writeFileSync(linkInput, `${JSON.stringify(link, null, 2)}\n`);
  return { kubeconfig, failoverInput: failoverFile, webhookConfig, webhookToken, linkInput, servers };
}

/** What {@link startLabPairMesh} did. */
export interface LabPairMesh {
  /** Per cluster, the demo objects applied. */
  demo: Record<string, string[]>;
  greeters: LabGreeters;
  /** Whether the mesh supervisor was started now (false: it was running). */
  supervisorStarted: boolean;
}

/**
 * Readies the pair for LinkMeshClusters through the kubeconfig {@link writeLabPairFiles} wrote: the demo
 * application on both clusters, the greeters behind it, and the lab mesh supervisor. Idempotent.
 */
export async function startLabPairMesh(options: { dataDir?: string } = {}): Promise<LabPairMesh> {
  const { paths, state } = running(options.dataDir);
  const file = path.join(paths.inputsDir, 'kubeconfig');
  if (!existsSync(file)) throw new Error(`${file} is missing: write the pair's files first (kubeha lab kubeconfig)`);
  const text = readFileSync(file, 'utf8');
  const demo: Record<string, string[]> = {};
  for (const cluster of Object.values(LAB_PAIR)) {
    demo[cluster] = await deployLabDemo(new KubeClient(parseKubeconfig(withContext(text, cluster)), 15_000));
  }
  const greeters = await startLabGreeters(paths, state, Object.values(LAB_PAIR));
  const vpc = (cluster: string) => state.topology.clusters.find((c) => c.name === cluster)?.vpcCidr ?? '10.0.0.0/16';
  const east = greeters[LAB_PAIR.east];
  const { started } = await startMeshSupervisor(paths, {
    kubeconfigFile: file,
    west: { context: LAB_PAIR.west, vpcCidr: vpc(LAB_PAIR.west) },
    east: { context: LAB_PAIR.east, vpcCidr: vpc(LAB_PAIR.east) },
    gatewayBackend: { host: east.address, port: Number(new URL(east.url).port) },
  });
  return { demo, greeters, supervisorStarted: started };
}

/** Starts the pair's greeters: "greetings from west" and "greetings from east" over HTTP (greeters.ts). */
export async function startLabPairGreeters(options: { dataDir?: string } = {}): Promise<LabGreeters> {
  const { paths, state } = running(options.dataDir);
  return startLabGreeters(paths, state, Object.values(LAB_PAIR));
}
