/** Step export: east's services exported, and their mirrors on west waited for. */
import { mesh, meshWaits } from './activities';
import type { MeshContext } from './data';

export async function exportServices(ctx: MeshContext): Promise<void> {
  const { west, east } = ctx.pre;
  const exported = await mesh.exportServices.executeWithOptions({ summary: `export ${ctx.config.services.length} services on ${east.name}` }, [
    { east, services: ctx.config.services },
  ]);
  ctx.tracker.setStep(
    'export',
    'waiting',
    'WaitingMirrors',
    `labelled ${exported.labelled.length}, already exported ${exported.alreadyExported.length}; waiting for the mirrors on ${west.name}`,
  );
  const mirrors = await meshWaits.waitMirrors.executeWithOptions({ summary: `wait for mirrors on ${west.name}` }, [
    { west, east, services: ctx.config.services, timeoutSeconds: ctx.config.timeouts.mirrorSeconds },
  ]);
  ctx.mirrors = mirrors.mirrors;
  for (const m of mirrors.mirrors) ctx.tracker.setHost('export', m.mirror, 'done', 'Mirrored', m.message);
  ctx.tracker.setStep(
    'export',
    'running',
    'Mirrored',
    `${mirrors.mirrors.length} mirrors point at ${mirrors.gateway.ips.join(', ')} (${mirrors.gateway.reported.join(', ')})`,
  );
}
