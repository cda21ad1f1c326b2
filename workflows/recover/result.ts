/** What RecoverControlPlane returns: the outcome, the survivor, the data-loss window and the hosts rejoined. */
import type { RecoverContext } from './data';

/** The result of one RecoverControlPlane run. */
export interface RecoverResult {
  clusterName: string;
  /** `recovered`: quorum restored and the lost voters rejoined; `refused`: quorum held; `rejected`: no approval. */
  outcome: 'recovered' | 'refused' | 'rejected';
  /** Why nothing was restored (refused or rejected). */
  reason?: string;
  /** The member restored as a one-member cluster. */
  survivor?: string;
  approvedBy?: string;
  /** An earlier attempt had already restored the survivor. */
  alreadyRestored?: boolean;
  /** The survivor's revision before the restore: writes past it on the lost members were lost. */
  revisionBefore?: number;
  /** The revision of the one-member cluster, and of the first write through the load balancer after it. */
  revisionAfter?: number;
  servingRevision?: number;
  /** The backup restored, when no member survived. */
  fromBackup?: { backupId: string; createdAt: string; revision: number; host: string };
  /** Members the restore removed from etcd. */
  removedMembers: string[];
  /** Targets taken out of the load balancer at the restore (the lost control planes). */
  fenced: string[];
  rejoined: string[];
}

export function resultOf(ctx: RecoverContext): RecoverResult {
  return {
    clusterName: ctx.config.cluster.clusterName,
    outcome: ctx.stop?.outcome ?? 'recovered',
    ...(ctx.stop ? { reason: ctx.stop.reason } : {}),
    ...(ctx.survivor ? { survivor: ctx.survivor.name } : {}),
    ...(ctx.approvedBy ? { approvedBy: ctx.approvedBy } : {}),
    ...(ctx.restore
      ? {
          alreadyRestored: ctx.restore.alreadyRestored,
          revisionBefore: ctx.restore.revisionBefore,
          revisionAfter: ctx.restore.revisionAfter,
          ...(ctx.restore.fromBackup ? { fromBackup: ctx.restore.fromBackup } : {}),
        }
      : {}),
    ...(ctx.servingRevision !== undefined ? { servingRevision: ctx.servingRevision } : {}),
    removedMembers: ctx.restore?.removedMembers ?? [],
    fenced: ctx.fenced,
    rejoined: ctx.rejoined,
  };
}
