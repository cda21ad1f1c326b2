/** What LinkMeshClusters returns. */
import type { MeshRole, MirrorStatus, TrafficSplitResult } from '../../activities/mesh/types';
import type { MeshContext } from './data';

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

export function resultOf(ctx: MeshContext): LinkMeshResult {
  const cluster = (role: MeshRole) => ({ name: ctx.pre[role].name, context: ctx.pre[role].context, server: ctx.pre[role].server });
  return {
    pairName: ctx.pairName,
    clusters: { west: cluster('west'), east: cluster('east') },
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
