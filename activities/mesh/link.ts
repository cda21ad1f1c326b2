/**
 * The multicluster link: `linkerd --context east multicluster link|link-gen --cluster-name east`,
 * applied to west, and kubeha's own checks that the link is whole. The rendered Link holds a token for
 * east's API: it is applied, never logged or returned.
 */
import type { KubeClient } from '../kubernetes/client';
import { installedAnchorFingerprints, applyRendered, type InstallDeps } from './install';
import { parseLinkerdVersion, supportsLinkGen } from './linkerdCli';
import { gatewayAddress, type Resolver } from './mirrors';
import { MULTICLUSTER_NAMESPACE } from './clusterState';
import type { LinkClustersInput, LinkResult, MeshCheck } from './types';

const LINK_VERSIONS = ['v1alpha3', 'v1alpha2', 'v1alpha1'];

interface LinkObject {
  spec?: { gatewayAddress?: string; targetClusterName?: string; clusterCredentialsSecret?: string };
}

/** The Link named `name` on west, from the newest API version served. */
export async function findLink(west: KubeClient, name: string): Promise<LinkObject | undefined> {
  for (const version of LINK_VERSIONS) {
    if (!(await west.serves(`multicluster.linkerd.io/${version}`, 'Link'))) continue;
    const link = await west.find<LinkObject>(`/apis/multicluster.linkerd.io/${version}/namespaces/${MULTICLUSTER_NAMESPACE}/links/${encodeURIComponent(name)}`);
    if (link) return link;
  }
  return undefined;
}

/** `link` or `link-gen`, as asked or by the CLI's version (link-gen from edge-25.3 / 2.18). */
export async function linkCommandFor(deps: InstallDeps, asked: LinkClustersInput['command']): Promise<'link' | 'link-gen'> {
  if (asked !== 'auto') return asked;
  return supportsLinkGen(parseLinkerdVersion(await deps.cli.clientVersion())) ? 'link-gen' : 'link';
}

/** Links east into west unless west already holds a Link to east whose gateway is east's current one. */
export async function linkClusters(deps: InstallDeps, input: LinkClustersInput, resolve: Resolver): Promise<LinkResult> {
  const west = await deps.client(input.west);
  const east = await deps.client(input.east);
  const command = await linkCommandFor(deps, input.command);
  const link = await findLink(west, input.east.name);
  const gateway = await gatewayAddress(east, undefined, input.east.name, resolve).catch(() => undefined);
  const reported = (link?.spec?.gatewayAddress ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const credentials = await west.find(`/api/v1/namespaces/${MULTICLUSTER_NAMESPACE}/secrets/cluster-credentials-${encodeURIComponent(input.east.name)}`);
  if (link && credentials && gateway && reported.sort().join(',') === [...gateway.reported].sort().join(',')) {
    return { command, alreadyLinked: true, applied: 0, workloads: [], gatewayAddresses: reported };
  }
  const args = ['multicluster', command, '--cluster-name', input.east.name];
  if (input.apiServerAddress) args.push('--api-server-address', input.apiServerAddress);
  const { stdout } = await deps.cli.run(args, {
    what: `linkerd multicluster ${command} on ${input.east.name}`,
    kubeconfigSecret: input.east.kubeconfigSecret,
    context: input.east.context,
  });
  const result = await applyRendered(deps, input.west, stdout, `linkerd multicluster ${command}`, input.dryRun ?? false);
  const after = input.dryRun ? undefined : await findLink(west, input.east.name);
  return {
    command,
    alreadyLinked: false,
    ...result,
    gatewayAddresses: (after?.spec?.gatewayAddress ?? gateway?.reported.join(',') ?? '').split(',').filter(Boolean),
  };
}

/** kubeha's own link checks on west: Link, credentials, gateway address, shared anchors. */
export async function linkChecks(west: KubeClient, east: KubeClient, eastName: string, resolve: Resolver): Promise<MeshCheck[]> {
  const category = 'kubeha multicluster';
  const hint = 'https://linkerd.io/2/checks/#l5d-multicluster-links-exist';
  const checks: MeshCheck[] = [];
  const add = (description: string, error?: string) =>
    checks.push({ category, description, status: error ? 'error' : 'ok', ...(error ? { error, hint } : {}) });
  const link = await findLink(west, eastName);
  add(`Link ${eastName} exists on west`, link ? undefined : `west has no Link ${MULTICLUSTER_NAMESPACE}/${eastName}: run the link step`);
  const credentials = await west.find(`/api/v1/namespaces/${MULTICLUSTER_NAMESPACE}/secrets/cluster-credentials-${encodeURIComponent(eastName)}`);
  add(`credentials for ${eastName} exist on west`, credentials ? undefined : `Secret ${MULTICLUSTER_NAMESPACE}/cluster-credentials-${eastName} is missing`);
  if (link) {
    try {
      const viaLink = await gatewayAddress(east, west, eastName, resolve);
      const direct = await gatewayAddress(east, undefined, eastName, resolve);
      const same = viaLink.ips.join(',') === direct.ips.join(',');
      add(
        `Link ${eastName} points at east's gateway`,
        same
          ? undefined
          : `the Link says ${viaLink.reported.join(',')} (${viaLink.ips.join(',')}), east's gateway is ${direct.reported.join(',')} (${direct.ips.join(',') || 'no address yet'})`,
      );
    } catch (err) {
      add(`Link ${eastName} points at east's gateway`, (err as Error).message);
    }
  }
  const [westAnchors, eastAnchors] = await Promise.all([installedAnchorFingerprints(west), installedAnchorFingerprints(east)]);
  const shared = westAnchors.length > 0 && westAnchors.join(',') === eastAnchors.join(',');
  add(
    'clusters share trust anchors',
    shared
      ? undefined
      : `west trusts ${westAnchors.map((f) => f.slice(0, 16)).join(',') || 'nothing'}, east ${eastAnchors.map((f) => f.slice(0, 16)).join(',') || 'nothing'}`,
  );
  return checks;
}
