/**
 * LinkMeshClusters: the seed's "multi-cloud with service mesh" procedure as a durable workflow. A shared
 * Linkerd trust anchor with one issuer per cluster, Linkerd on west and east, the multicluster extension,
 * east linked into west, east's services exported and their mirrors verified on west, and optionally
 * the traffic split objects a failover shifts. Every step asks the clusters first, so a resumed or
 * repeated run acts only where something is missing.
 *
 * What the seed gets wrong, and this does instead: the anchor is made too (the seed's step command has
 * no --ca/--ca-key source and its files are named ca.crt, then root.crt); each cluster gets its own
 * issuer; `multicluster link` is replaced by `link-gen` on CLIs that deprecate it, with the service
 * mirror installed by `multicluster install` on west; gateway addresses are resolved when the load
 * balancer reports a hostname (AWS); `multicluster gateways` needs linkerd-viz, so its absence is a
 * warning, not a failure; the split is an HTTPRoute on current Linkerd (SMI is deprecated since 2.13)
 * and the SMI TrafficSplit, when chosen, has the metadata and spec the seed's YAML lost.
 */
import { setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { PreflightMeshResult } from '../../activities/mesh/types';
import { linkMeshClustersInputSchema, MESH_STEPS, pairNameOf, parseLinkerdVersion, supportsLinkGen } from '../../common/inputs/linkMeshClusters';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { parseInput } from '../../common/validation';
import { progressQuery, ProgressTracker } from '../engine/progress';
import { runStepTable, type Step } from '../engine/steps';
import { pairOf } from '../engine/subject';
import { mesh } from './activities';
import { check } from './check';
import { dryRunSkip, type MeshContext, ROLES } from './data';
import { exportServices } from './exportServices';
import { installControlPlane, installCrds, installMulticluster } from './install';
import { link } from './link';
import { type LinkMeshResult, resultOf } from './result';
import { trafficSplit } from './trafficSplit';
import { trust } from './trust';

export type { LinkMeshResult } from './result';

/** The steps of LinkMeshClusters, in order (names in MESH_STEPS). */
export const MESH_STEP_TABLE: readonly Step<MeshContext>[] = [
  {
    name: 'trust',
    description: 'Shared trust anchor and one issuer per cluster (ECDSA P-256, issuer pathlen 0), made in process or adopted, kept in the secret store.',
    run: trust,
  },
  {
    name: 'install-crds',
    description: 'linkerd install --crds on both clusters, applied through the API (server-side apply; a dry run asks the API server to validate only).',
    run: installCrds,
  },
  {
    name: 'install-control-plane',
    description:
      "linkerd install with the shared anchors and each cluster's issuer; skipped where the installed anchors and issuer already match; waits for the rollout.",
    skipReason: dryRunSkip('install the Linkerd control plane on both clusters'),
    run: installControlPlane,
  },
  {
    name: 'check',
    description:
      "linkerd check -o json and kubeha's identity checks on both, until healthy or the deadline; warnings (expiry within 60 days) are kept in the result.",
    skipReason: dryRunSkip('run linkerd check on both clusters'),
    run: check,
  },
  {
    name: 'multicluster-install',
    description: 'linkerd multicluster install on both (on west with the service mirror for east when link-gen is used); waits for the gateway rollout.',
    skipReason: dryRunSkip('install the multicluster extension on both clusters'),
    run: installMulticluster,
  },
  {
    name: 'link',
    description: "multicluster link (or link-gen) on east, applied to west; then multicluster check, gateways and kubeha's link checks until healthy.",
    skipReason: dryRunSkip('link east into west'),
    run: link,
  },
  {
    name: 'export',
    description:
      "Label the services on east mirror.linkerd.io/exported=true; wait for <svc>-<east> on west with endpoints at east's gateway (hostnames resolved).",
    skipReason: (ctx) => (ctx.config.services.length === 0 ? 'no services to export' : dryRunSkip('export the services and wait for their mirrors')(ctx)),
    run: exportServices,
  },
  {
    name: 'traffic-split',
    description: 'Optional: an HTTPRoute with weighted backendRefs (current Linkerd) or an SMI TrafficSplit per service on west, ready for failover.',
    skipReason: (ctx) => (!ctx.config.trafficSplit ? 'no trafficSplit in the input' : dryRunSkip('apply the traffic split objects')(ctx)),
    run: trafficSplit,
  },
];

/** Starts, or resumes, the link of two clusters. Takes ONE object (the Web UI form's one value). */
export async function LinkMeshClusters(rawInput: unknown): Promise<LinkMeshResult> {
  const named = pairOf(rawInput);
  const tracker = new ProgressTracker('LinkMeshClusters', `mesh ${named.west} ← ${named.east}`, MESH_STEPS);
  setHandler(progressQuery, () => tracker.progress);
  const config = parseInput('LinkMeshClusters', linkMeshClustersInputSchema, rawInput);
  const pairName = pairNameOf(config);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: pairName }]);

  // Read-only preflight before any step: contexts, adopted files, anchors already installed. A bad
  // input fails the run here, naming the field, with both clusters untouched.
  let pre: PreflightMeshResult;
  try {
    pre = await mesh.preflightMesh.executeWithOptions({ summary: 'preflight: contexts, trust files, installed anchors' }, [
      { pairName, west: config.west, east: config.east, trust: config.trust },
    ]);
  } catch (err) {
    tracker.setPhase('failed', 'preflight refused the input');
    throw err;
  }
  const linkCommand = config.linkCommand === 'auto' ? (supportsLinkGen(parseLinkerdVersion(pre.cliVersion)) ? 'link-gen' : 'link') : config.linkCommand;
  tracker.setFact('linkerd CLI', pre.cliVersion);
  tracker.setFact('link command', linkCommand);
  for (const role of ROLES) tracker.setFact(role, `${pre[role].name} (context ${pre[role].context}, ${pre[role].server})`);

  const context: MeshContext = { config, tracker, pairName, pre, linkCommand, mirrors: [], warnings: new Set() };
  await runStepTable(MESH_STEP_TABLE, context, tracker, config);
  tracker.setPhase('succeeded');
  return resultOf(context);
}
