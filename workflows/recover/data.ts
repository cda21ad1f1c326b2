/**
 * What the steps of one RecoverControlPlane run share: the validated input, the cluster's voters, and
 * the steps' findings (the members' answers, the survivor chosen, the restore, the hosts rejoined).
 */
import type { EtcdMemberProbe, SurvivorRestoreResult } from '../../activities/recovery/types';
import type { RecoverControlPlaneConfig } from '../../common/inputs/recoverControlPlane';
import type { HostSpec } from '../../common/inputs/shared';
import type { BootstrapContext } from '../bootstrap/data';
import { bootstrapContext } from '../bootstrap/data';
import type { ProgressTracker } from '../engine/progress';

/** Why a run ended without restoring. */
export interface RecoverStop {
  outcome: 'refused' | 'rejected';
  reason: string;
}

export interface RecoverContext {
  readonly config: RecoverControlPlaneConfig;
  readonly tracker: ProgressTracker;
  /** The cluster as BootstrapStackedEtcd sees it (its primary is the input's first control plane): for verify. */
  readonly cluster: BootstrapContext;
  /** Control-plane and spare hosts, in input order: etcd's voters. */
  readonly voters: HostSpec[];
  /** The members' last answers, by host name. */
  probes: Record<string, EtcdMemberProbe>;
  stop?: RecoverStop;
  approvedBy?: string;
  /** The member restored as a one-member cluster. */
  survivor?: HostSpec;
  restore?: SurvivorRestoreResult;
  /** The backup restored when no member survived (chosen once, before the restore). */
  backup?: { backupId: string; createdAt: string; revision: number };
  /** The revision a write through the load balancer got once the survivor served. */
  servingRevision?: number;
  rejoined: string[];
  /** Lost hosts found back and reset (or found with nothing stale), before any of them joined. */
  staleReset: string[];
  /** Targets taken out of the load balancer when the survivor was restored (the lost members'). */
  fenced: string[];
  /** The joins' context (see {@link survivorContext}). */
  joins?: BootstrapContext;
}

export function recoverContext(config: RecoverControlPlaneConfig, tracker: ProgressTracker): RecoverContext {
  return {
    config,
    tracker,
    cluster: bootstrapContext(config.cluster, tracker),
    voters: config.cluster.hosts.filter((h) => h.role !== 'worker'),
    probes: {},
    rejoined: [],
    staleReset: [],
    fenced: [],
  };
}

/**
 * The bootstrap context the joins run in after the restore: the survivor is the member every join is
 * checked and repaired through (the input's primary may be one of the lost). Made once per run, so the
 * load balancer, the cluster and the join credentials are found once.
 */
export function survivorContext(ctx: RecoverContext): BootstrapContext {
  if (!ctx.survivor) throw new Error('no survivor restored yet');
  ctx.joins ??= { ...ctx.cluster, primary: ctx.survivor, secondaries: [], spares: [], workers: [] };
  return ctx.joins;
}
