/** Step traffic-split: the split objects on west that a failover shifts. */
import { mesh } from './activities';
import type { MeshContext } from './data';

export async function trafficSplit(ctx: MeshContext): Promise<void> {
  const split = ctx.config.trafficSplit;
  // The step is skipped without one (see its skip reason).
  if (!split) return;
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
  ctx.tracker.setStep(
    'traffic-split',
    'running',
    'Applied',
    `${ctx.split.apiVersion}: ${ctx.split.applied.join(', ')} (${split.localWeight}/${split.remoteWeight})`,
  );
}
