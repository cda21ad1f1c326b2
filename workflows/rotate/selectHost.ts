/** Step select-host: the first control-plane host that answers uploads; the others are reported. */
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { probes } from './activities';
import type { RotationContext } from './data';

export async function selectHostStep(ctx: RotationContext): Promise<void> {
  const host = await selectHost(ctx);
  ctx.tracker.setStep(
    'select-host',
    'running',
    'Selected',
    ctx.skipped.length ? `${host.name} (skipped ${ctx.skipped.map((s) => s.host).join(', ')})` : host.name,
  );
}

/** The first control-plane host that answers; the others are recorded with their reason. */
export async function selectHost(ctx: RotationContext): Promise<HostSpec> {
  if (ctx.host) return ctx.host;
  const step = 'select-host';
  for (const host of ctx.candidates) {
    const probe = await probes.probeControlPlane.executeWithOptions({ summary: `is ${host.name} a healthy control plane?` }, [{ host }]);
    if (probe.healthy) {
      ctx.tracker.setHost(step, host.name, 'done', 'Selected', 'answers: SSH, API server, CA keys');
      ctx.tracker.setFact('upload host', host.name);
      ctx.host = host;
      return host;
    }
    const reason = probe.reason ?? 'not healthy';
    ctx.skipped.push({ host: host.name, reason });
    ctx.tracker.setHost(step, host.name, 'skipped', 'Unhealthy', reason);
  }
  throw kubehaFailure({
    type: ErrorType.Unreachable,
    message: `no healthy control-plane host among ${ctx.candidates.map((h) => h.name).join(', ')}: ${ctx.skipped.map((s) => `${s.host}: ${s.reason}`).join('; ')}`,
    retryable: true,
    hint: 'each host is listed with why it was passed over; fix one of them and retry the step',
  });
}
