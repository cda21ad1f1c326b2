/** Step trust: the shared trust anchor and one issuer per cluster, found or made, kept in the secret store. */
import type { TrustMaterial } from '../../activities/mesh/types';
import { mesh } from './activities';
import type { MeshContext } from './data';

/** The trust material; ensureTrust is idempotent, so a step run alone finds what `trust` stored. */
export async function trustOf(ctx: MeshContext): Promise<TrustMaterial> {
  if (!ctx.trust) {
    ctx.trust = await mesh.ensureTrust.executeWithOptions({ summary: 'find or make the shared trust anchor and issuers' }, [
      { pairName: ctx.pairName, trust: ctx.config.trust, dryRun: ctx.config.dryRun },
    ]);
    ctx.tracker.setFact('trust anchors', `${ctx.trust.anchorFingerprints.map((f) => f.slice(0, 16)).join(', ')} (until ${ctx.trust.anchorsNotAfter})`);
    ctx.trust.warnings.forEach((w) => ctx.warnings.add(w));
  }
  return ctx.trust;
}

export async function trust(ctx: MeshContext): Promise<void> {
  const material = await trustOf(ctx);
  const made = material.created.length ? `${ctx.config.dryRun ? 'would store' : 'stored'} ${material.created.length} items` : 'already in the secret store';
  ctx.tracker.setStep(
    'trust',
    'running',
    material.created.length ? 'Created' : 'AlreadyPresent',
    `${ctx.config.trust.mode}: ${made}; issuers until ${material.issuers.west.notAfter} / ${material.issuers.east.notAfter}`,
  );
}
