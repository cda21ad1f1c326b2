/** Step check-expiration: certificate expiry on every control-plane host that answers. */
import { failureType } from '../../common/errors';
import { probes } from './activities';
import type { RotationContext } from './data';
import { soonestOf } from './result';

export async function checkExpiration(ctx: RotationContext): Promise<void> {
  const step = 'check-expiration';
  ctx.certificates = [];
  for (const host of ctx.candidates) {
    const skip = ctx.skipped.find((s) => s.host === host.name);
    if (skip) {
      ctx.tracker.setHost(step, host.name, 'skipped', 'Unhealthy', skip.reason);
      continue;
    }
    try {
      const certs = await probes.certificateExpiration.executeWithOptions({ summary: `certificate expiry on ${host.name}` }, [{ host }]);
      ctx.certificates.push(certs);
      ctx.tracker.setHost(
        step,
        host.name,
        'done',
        'Checked',
        certs.soonest ? `${certs.soonest.name} expires first, at ${certs.soonest.expiresAt}` : 'no kubeadm-managed certificates found',
      );
    } catch (err) {
      ctx.tracker.setHost(step, host.name, 'failed', failureType(err) ?? 'Error', (err as Error).message);
      throw err;
    }
  }
  const soonest = soonestOf(ctx.certificates);
  if (soonest) ctx.tracker.setFact('soonest certificate expiry', `${soonest.name} on ${soonest.host}: ${soonest.expiresAt}`);
  ctx.tracker.setStep(step, 'running', 'Checked', soonest ? `soonest: ${soonest.name} on ${soonest.host} at ${soonest.expiresAt}` : 'nothing to report');
}
