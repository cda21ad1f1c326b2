/**
 * Step precheck: east can take the load, or nothing changes. It asks east and Route 53 only: when west
 * failed whole, nothing there answers, and the failover is for exactly that case (west's mirrors are
 * checked by shift-traffic, while west still answers). Runs from before that rule keep the older check.
 */
import { gtmPrecheck } from './gtmPrecheck';
import type { FailoverContext } from './data';
import { readiness } from './readiness';

export async function precheck(ctx: FailoverContext): Promise<void> {
  const { config, tracker } = ctx;
  const reasons: string[] = [];
  if (ctx.westOptional) {
    reasons.push(...(await gtmPrecheck(ctx)));
    return conclude(ctx, reasons);
  }
  // Every check at once: a failover is urgent, and the checks are independent reads.
  const [gw, perService] = await Promise.all([
    readiness(
      config.east.kubeconfigSecret,
      config.east.gateway.namespace,
      config.east.gateway.service,
      `east gateway ${config.east.gateway.namespace}/${config.east.gateway.service}`,
    ),
    Promise.all(
      ctx.services.map(async (s) => {
        const [east, mirror] = await Promise.all([
          readiness(config.east.kubeconfigSecret, s.namespace, s.eastService, `east ${s.namespace}/${s.eastService}`),
          readiness(config.west.kubeconfigSecret, s.namespace, s.eastBackend, `west mirror ${s.namespace}/${s.eastBackend}`),
        ]);
        return { s, east, mirror };
      }),
    ),
  ]);
  tracker.setHost('precheck', 'east gateway', gw.ok ? 'done' : 'failed', gw.ok ? 'Ready' : 'NotReady', gw.detail);
  if (!gw.ok) reasons.push(`east gateway ${config.east.gateway.namespace}/${config.east.gateway.service}: ${gw.detail}`);
  for (const { s, east, mirror } of perService) {
    tracker.setHost('precheck', `east ${s.namespace}/${s.eastService}`, east.ok ? 'done' : 'failed', east.ok ? 'Ready' : 'NotReady', east.detail);
    if (!east.ok) reasons.push(`east service ${s.namespace}/${s.eastService}: ${east.detail}`);
    if (mirror.unreachable && config.controlPlane) {
      // West's API may be what failed: the control-plane step can bring it back; shift-traffic checks again.
      ctx.westMirrorUnverified = true;
      tracker.setHost(
        'precheck',
        `west mirror ${s.namespace}/${s.eastBackend}`,
        'waiting',
        'Unverified',
        `west API unreachable (${mirror.detail}); checked again before the shift`,
      );
      continue;
    }
    tracker.setHost('precheck', `west mirror ${s.namespace}/${s.eastBackend}`, mirror.ok ? 'done' : 'failed', mirror.ok ? 'Ready' : 'NotReady', mirror.detail);
    if (!mirror.ok) reasons.push(`west mirror ${s.namespace}/${s.eastBackend}: ${mirror.detail}`);
  }
  return conclude(ctx, reasons);
}

/** Refuses with every reason, or records that east can take the load. */
function conclude(ctx: FailoverContext, reasons: string[]): void {
  const { incident, tracker } = ctx;
  if (reasons.length > 0) {
    ctx.stop = { outcome: 'refused', reasons };
    incident.setState('refused');
    incident.decide('Refused', `east cannot take the load, nothing changed: ${reasons.join('; ')}`);
    tracker.setStep('precheck', 'running', 'Refused', reasons.join('; '));
    return;
  }
  incident.decide(
    'PrecheckPassed',
    `east gateway and ${ctx.services.length} service(s) ready${ctx.westMirrorUnverified ? '; west mirrors unverified (west API unreachable)' : ''}`,
  );
  tracker.setStep('precheck', 'running', 'EastReady', 'east can take the load');
}
