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
import { defineQuery, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { ClusterAccess, InstallResult, MeshCheckReport, MeshRole, MirrorStatus, PreflightMeshResult, TrafficSplitResult, TrustMaterial } from '../activities/mesh/types';
import type { WorkloadRef } from '../activities/types';
import { ErrorType, kubehaFailure } from '../common/errors';
import { linkMeshClustersInputSchema, MESH_STEPS, pairNameOf, parseLinkerdVersion, supportsLinkGen, type LinkMeshClustersConfig } from '../common/inputs/linkMeshClusters';
import { PROGRESS_QUERY, type Progress } from '../common/progress';
import { SEARCH_ATTRIBUTES } from '../common/searchAttributes';
import { parseInput } from '../common/validation';
import { mesh, meshInstall, meshWaits } from './engine/meshActivities';
import { ProgressTracker } from './engine/progress';
import { runStepTable, type Step } from './engine/steps';

/** Query: the run's conditions per step and per cluster. */
export const progressQuery = defineQuery<Progress>(PROGRESS_QUERY);

/** What LinkMeshClusters returns: the pair as verified. No secrets, only their names. */
export interface LinkMeshResult {
  pairName: string;
  clusters: Record<MeshRole, { name: string; context: string; server: string }>;
  anchorFingerprints: string[];
  anchorsNotAfter?: string;
  issuersNotAfter?: Record<MeshRole, string>;
  linkCommand: 'link' | 'link-gen';
  mirrors: MirrorStatus[];
  trafficSplit?: TrafficSplitResult;
  /** Check warnings (anchors or issuers within 60 days of expiry, gateways without viz...). */
  warnings: string[];
  dryRun: boolean;
}

interface MeshContext {
  config: LinkMeshClustersConfig;
  tracker: ProgressTracker;
  pairName: string;
  pre: PreflightMeshResult;
  linkCommand: 'link' | 'link-gen';
  trust?: TrustMaterial;
  mirrors: MirrorStatus[];
  split?: TrafficSplitResult;
  warnings: Set<string>;
}

const ROLES: MeshRole[] = ['west', 'east'];

/** Starts, or resumes, the link of two clusters. Takes ONE object (the Web UI form's one value). */
export async function LinkMeshClusters(rawInput: unknown): Promise<LinkMeshResult> {
  const tracker = new ProgressTracker('LinkMeshClusters', subjectOf(rawInput), MESH_STEPS);
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

function subjectOf(raw: unknown): string {
  const input = raw as { west?: { name?: unknown }; east?: { name?: unknown } } | null;
  const west = typeof input?.west?.name === 'string' ? input.west.name.slice(0, 63) : '?';
  const east = typeof input?.east?.name === 'string' ? input.east.name.slice(0, 63) : '?';
  return `mesh ${west} ← ${east}`;
}

function resultOf(ctx: MeshContext): LinkMeshResult {
  const clusters = {} as LinkMeshResult['clusters'];
  for (const role of ROLES) clusters[role] = { name: ctx.pre[role].name, context: ctx.pre[role].context, server: ctx.pre[role].server };
  return {
    pairName: ctx.pairName,
    clusters,
    anchorFingerprints: ctx.trust?.anchorFingerprints ?? [],
    anchorsNotAfter: ctx.trust?.anchorsNotAfter,
    issuersNotAfter: ctx.trust ? { west: ctx.trust.issuers.west.notAfter, east: ctx.trust.issuers.east.notAfter } : undefined,
    linkCommand: ctx.linkCommand,
    mirrors: ctx.mirrors,
    trafficSplit: ctx.split,
    warnings: [...ctx.warnings],
    dryRun: ctx.config.dryRun,
  };
}

// ------------------------------------------------------------------ shared pieces of the steps

/** The trust material; ensureTrust is idempotent, so a step run alone finds what `trust` stored. */
async function trustOf(ctx: MeshContext): Promise<TrustMaterial> {
  if (!ctx.trust) {
    ctx.trust = await mesh.ensureTrust.executeWithOptions({ summary: 'find or make the shared trust anchor and issuers' }, [
      { pairName: ctx.pairName, trust: ctx.config.trust, dryRun: ctx.config.dryRun },
    ]);
    ctx.tracker.setFact('trust anchors', `${ctx.trust.anchorFingerprints.map((f) => f.slice(0, 16)).join(', ')} (until ${ctx.trust.anchorsNotAfter})`);
    ctx.trust.warnings.forEach((w) => ctx.warnings.add(w));
  }
  return ctx.trust;
}

/** Runs `fn` for west and east at once, with a condition per cluster. */
async function bothClusters(ctx: MeshContext, step: string, fn: (access: ClusterAccess) => Promise<string>): Promise<void> {
  for (const role of ROLES) ctx.tracker.setHost(step, role, 'running');
  await Promise.all(
    ROLES.map(async (role) => {
      try {
        const message = await fn(ctx.pre[role]);
        ctx.tracker.setHost(step, role, 'done', 'Done', message);
      } catch (err) {
        ctx.tracker.setHost(step, role, 'failed', 'Failed', (err as Error).message);
        throw err;
      }
    }),
  );
}

async function waitRollout(ctx: MeshContext, step: string, access: ClusterAccess, workloads: WorkloadRef[]): Promise<void> {
  if (workloads.length === 0) return;
  ctx.tracker.setHost(step, access.role, 'waiting', 'WaitingRollout', `waiting for ${workloads.map((w) => w.name).join(', ')}`);
  await meshWaits.waitRollout.executeWithOptions({ summary: `rollout on ${access.name}: ${workloads.map((w) => w.name).join(', ')}` }, [
    { kubeconfigSecret: access.kubeconfigSecret, workloads, timeoutSeconds: ctx.config.timeouts.rolloutSeconds },
  ]);
}

function installMessage(result: InstallResult): string {
  return result.alreadyInstalled ? `already there: ${result.note}` : result.note;
}

const errorLines = (reports: MeshCheckReport[]) => reports.flatMap((r) => r.checks.filter((c) => c.status === 'error').map((c) => `${r.cluster}: ${c.description}${c.error ? ` (${c.error})` : ''}`));
const warningLines = (reports: MeshCheckReport[]) => reports.flatMap((r) => r.checks.filter((c) => c.status === 'warning').map((c) => `${r.cluster}: ${c.description}${c.error ? ` (${c.error})` : ''}`));

/**
 * Runs `probe` until every report is healthy or the check deadline passes; retries belong to Temporal
 * (a workflow timer between probes), not to a sleep loop inside an activity.
 */
async function untilHealthy(ctx: MeshContext, step: string, probe: () => Promise<MeshCheckReport[]>): Promise<MeshCheckReport[]> {
  const deadline = Date.now() + ctx.config.timeouts.checkSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    const reports = await probe();
    const errors = errorLines(reports);
    if (errors.length === 0) {
      warningLines(reports).forEach((w) => ctx.warnings.add(w));
      const total = reports.reduce((n, r) => n + r.checks.length, 0);
      const warnings = warningLines(reports).length;
      ctx.tracker.setStep(step, 'running', warnings ? 'HealthyWithWarnings' : 'Healthy', `${total} checks √${warnings ? `, ${warnings} ‼: ${warningLines(reports).join('; ')}` : ''}`);
      return reports;
    }
    if (Date.now() >= deadline) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        message: `not healthy after ${ctx.config.timeouts.checkSeconds} s: ${errors.slice(0, 8).join('; ')}`,
        retryable: false,
        hint: 'each × names the check and cluster (same wording as linkerd check); fix it and signal retry',
        details: { errors },
      });
    }
    ctx.tracker.setStep(step, 'waiting', 'NotHealthyYet', `attempt ${attempt}: ${errors.length} × (${errors.slice(0, 3).join('; ')}); checking again in ${ctx.config.timeouts.checkIntervalSeconds} s`);
    await sleep(`${ctx.config.timeouts.checkIntervalSeconds} seconds`);
  }
}

const dryRunSkip = (what: string) => (ctx: MeshContext) => (ctx.config.dryRun ? `dry run: would ${what}` : undefined);

// ------------------------------------------------------------------ the step table

/** The steps of LinkMeshClusters, in order (names in MESH_STEPS). */
export const MESH_STEP_TABLE: readonly Step<MeshContext>[] = [
  {
    name: 'trust',
    description: 'Shared trust anchor and one issuer per cluster (ECDSA P-256, issuer pathlen 0), made in process or adopted, kept in the secret store.',
    async run(ctx) {
      const trust = await trustOf(ctx);
      const made = trust.created.length ? `${ctx.config.dryRun ? 'would store' : 'stored'} ${trust.created.length} items` : 'already in the secret store';
      ctx.tracker.setStep('trust', 'running', trust.created.length ? 'Created' : 'AlreadyPresent', `${ctx.config.trust.mode}: ${made}; issuers until ${trust.issuers.west.notAfter} / ${trust.issuers.east.notAfter}`);
    },
  },
  {
    name: 'install-crds',
    description: 'linkerd install --crds on both clusters, applied through the API (server-side apply; a dry run asks the API server to validate only).',
    async run(ctx) {
      await bothClusters(ctx, 'install-crds', async (access) => {
        const result = await meshInstall.installLinkerdCrds.executeWithOptions({ summary: `Linkerd CRDs on ${access.name}` }, [{ cluster: access, dryRun: ctx.config.dryRun }]);
        return installMessage(result);
      });
    },
  },
  {
    name: 'install-control-plane',
    description: "linkerd install with the shared anchors and each cluster's issuer; skipped where the installed anchors and issuer already match; waits for the rollout.",
    skipReason: dryRunSkip('install the Linkerd control plane on both clusters'),
    async run(ctx) {
      const trust = await trustOf(ctx);
      await bothClusters(ctx, 'install-control-plane', async (access) => {
        const result = await meshInstall.installControlPlane.executeWithOptions({ summary: `Linkerd control plane on ${access.name}` }, [
          { cluster: access, trust, set: ctx.config[access.role].set },
        ]);
        await waitRollout(ctx, 'install-control-plane', access, result.workloads);
        return installMessage(result);
      });
    },
  },
  {
    name: 'check',
    description: 'linkerd check -o json and kubeha\'s identity checks on both, until healthy or the deadline; warnings (expiry within 60 days) are kept in the result.',
    skipReason: dryRunSkip('run linkerd check on both clusters'),
    async run(ctx) {
      const trust = await trustOf(ctx);
      await untilHealthy(ctx, 'check', () =>
        Promise.all(ROLES.map((role) => mesh.meshCheck.executeWithOptions({ summary: `linkerd check on ${ctx.pre[role].name}` }, [{ cluster: ctx.pre[role], scope: 'core', expectedAnchors: trust.anchorFingerprints }]))),
      );
    },
  },
  {
    name: 'multicluster-install',
    description: 'linkerd multicluster install on both (on west with the service mirror for east when link-gen is used); waits for the gateway rollout.',
    skipReason: dryRunSkip('install the multicluster extension on both clusters'),
    async run(ctx) {
      await bothClusters(ctx, 'multicluster-install', async (access) => {
        const controllersFor = access.role === 'west' && ctx.linkCommand === 'link-gen' ? [ctx.pre.east.name] : [];
        const result = await meshInstall.installMulticluster.executeWithOptions({ summary: `multicluster extension on ${access.name}` }, [{ cluster: access, controllersFor }]);
        await waitRollout(ctx, 'multicluster-install', access, result.workloads);
        return `${installMessage(result)}; rolled out`;
      });
    },
  },
  {
    name: 'link',
    description: 'multicluster link (or link-gen) on east, applied to west; then multicluster check, gateways and kubeha\'s link checks until healthy.',
    skipReason: dryRunSkip('link east into west'),
    async run(ctx) {
      const { west, east } = ctx.pre;
      const linked = await meshInstall.linkClusters.executeWithOptions({ summary: `link ${east.name} into ${west.name} (${ctx.linkCommand})` }, [
        { west, east, command: ctx.linkCommand, apiServerAddress: ctx.config.eastApiServerAddress },
      ]);
      ctx.tracker.setStep('link', 'running', linked.alreadyLinked ? 'AlreadyLinked' : 'Linked', `${linked.command}: gateway ${linked.gatewayAddresses.join(', ') || 'unknown'}`);
      await waitRollout(ctx, 'link', west, linked.workloads);
      ctx.tracker.setFact('east gateway', linked.gatewayAddresses.join(', '));
      await untilHealthy(ctx, 'link', () => Promise.all([mesh.verifyLink.executeWithOptions({ summary: 'multicluster check, gateways, link checks on west' }, [{ west, east }])]));
    },
  },
  {
    name: 'export',
    description: 'Label the services on east mirror.linkerd.io/exported=true; wait for <svc>-<east> on west with endpoints at east\'s gateway (hostnames resolved).',
    skipReason: (ctx) => (ctx.config.services.length === 0 ? 'no services to export' : dryRunSkip('export the services and wait for their mirrors')(ctx)),
    async run(ctx) {
      const { west, east } = ctx.pre;
      const exported = await mesh.exportServices.executeWithOptions({ summary: `export ${ctx.config.services.length} services on ${east.name}` }, [{ east, services: ctx.config.services }]);
      ctx.tracker.setStep('export', 'waiting', 'WaitingMirrors', `labelled ${exported.labelled.length}, already exported ${exported.alreadyExported.length}; waiting for the mirrors on ${west.name}`);
      const mirrors = await meshWaits.waitMirrors.executeWithOptions({ summary: `wait for mirrors on ${west.name}` }, [
        { west, east, services: ctx.config.services, timeoutSeconds: ctx.config.timeouts.mirrorSeconds },
      ]);
      ctx.mirrors = mirrors.mirrors;
      for (const m of mirrors.mirrors) ctx.tracker.setHost('export', m.mirror, 'done', 'Mirrored', m.message);
      ctx.tracker.setStep('export', 'running', 'Mirrored', `${mirrors.mirrors.length} mirrors point at ${mirrors.gateway.ips.join(', ')} (${mirrors.gateway.reported.join(', ')})`);
    },
  },
  {
    name: 'traffic-split',
    description: 'Optional: an HTTPRoute with weighted backendRefs (current Linkerd) or an SMI TrafficSplit per service on west, ready for failover.',
    skipReason: (ctx) => (!ctx.config.trafficSplit ? 'no trafficSplit in the input' : dryRunSkip('apply the traffic split objects')(ctx)),
    async run(ctx) {
      const split = ctx.config.trafficSplit as NonNullable<LinkMeshClustersConfig['trafficSplit']>;
      ctx.split = await mesh.ensureTrafficSplit.executeWithOptions({ summary: `traffic split on ${ctx.pre.west.name}` }, [
        {
          west: ctx.pre.west,
          eastName: ctx.pre.east.name,
          services: ctx.config.services,
          kind: split.kind,
          localWeight: split.localWeight,
          remoteWeight: split.remoteWeight,
          linkerdVersion: ctx.pre.installed.west.version ?? ctx.pre.cliVersion,
        },
      ]);
      ctx.tracker.setStep('traffic-split', 'running', 'Applied', `${ctx.split.apiVersion}: ${ctx.split.applied.join(', ')} (${split.localWeight}/${split.remoteWeight})`);
    },
  },
];
