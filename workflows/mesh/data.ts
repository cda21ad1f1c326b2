/**
 * What the steps of one LinkMeshClusters run share: the validated input and what the preflight found,
 * built once before the first step; the trust material, the mirrors, the split and the warnings are
 * filled in by the steps.
 */
import type { MeshRole, MirrorStatus, PreflightMeshResult, TrafficSplitResult, TrustMaterial } from '../../activities/mesh/types';
import type { LinkMeshClustersConfig } from '../../common/inputs/linkMeshClusters';
import type { ProgressTracker } from '../engine/progress';

export interface MeshContext {
  readonly config: LinkMeshClustersConfig;
  readonly tracker: ProgressTracker;
  readonly pairName: string;
  readonly pre: PreflightMeshResult;
  readonly linkCommand: 'link' | 'link-gen';
  trust?: TrustMaterial;
  mirrors: MirrorStatus[];
  split?: TrafficSplitResult;
  readonly warnings: Set<string>;
}

export const ROLES: MeshRole[] = ['west', 'east'];

export const dryRunSkip = (what: string) => (ctx: MeshContext) => (ctx.config.dryRun ? `dry run: would ${what}` : undefined);
