/** Work on both clusters of the pair at once, each with its own condition; rollouts waited for. */
import type { ClusterAccess, InstallResult } from '../../activities/mesh/types';
import type { WorkloadRef } from '../../activities/types';
import { meshWaits } from './activities';
import { type MeshContext, ROLES } from './data';

/** Runs `fn` for west and east at once, with a condition per cluster. */
export async function bothClusters(ctx: MeshContext, step: string, fn: (access: ClusterAccess) => Promise<string>): Promise<void> {
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

export async function waitRollout(ctx: MeshContext, step: string, access: ClusterAccess, workloads: WorkloadRef[]): Promise<void> {
  if (workloads.length === 0) return;
  ctx.tracker.setHost(step, access.role, 'waiting', 'WaitingRollout', `waiting for ${workloads.map((w) => w.name).join(', ')}`);
  await meshWaits.waitRollout.executeWithOptions({ summary: `rollout on ${access.name}: ${workloads.map((w) => w.name).join(', ')}` }, [
    { kubeconfigSecret: access.kubeconfigSecret, workloads, timeoutSeconds: ctx.config.timeouts.rolloutSeconds },
  ]);
}

export function installMessage(result: InstallResult): string {
  return result.alreadyInstalled ? `already there: ${result.note}` : result.note;
}
