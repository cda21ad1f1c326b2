/** Step link: east linked into west, then checked until healthy. */
import { meshInstall, mesh } from './activities';
import { untilHealthy } from './check';
import { waitRollout } from './clusters';
import type { MeshContext } from './data';

export async function link(ctx: MeshContext): Promise<void> {
  const { west, east } = ctx.pre;
  const linked = await meshInstall.linkClusters.executeWithOptions({ summary: `link ${east.name} into ${west.name} (${ctx.linkCommand})` }, [
    { west, east, command: ctx.linkCommand, apiServerAddress: ctx.config.eastApiServerAddress },
  ]);
  ctx.tracker.setStep(
    'link',
    'running',
    linked.alreadyLinked ? 'AlreadyLinked' : 'Linked',
    `${linked.command}: gateway ${linked.gatewayAddresses.join(', ') || 'unknown'}`,
  );
  await waitRollout(ctx, 'link', west, linked.workloads);
  ctx.tracker.setFact('east gateway', linked.gatewayAddresses.join(', '));
  await untilHealthy(ctx, 'link', () =>
    Promise.all([mesh.verifyLink.executeWithOptions({ summary: 'multicluster check, gateways, link checks on west' }, [{ west, east }])]),
  );
}
