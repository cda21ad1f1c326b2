/**
 * Step failback: once the alert resolved and west stayed healthy for the hysteresis window, move the
 * traffic back in steps, verified like the way out.
 */
import { condition } from '@temporalio/workflow';
import { failbackSteps } from '../../common/inputs/failoverToEast';
import { handOver, handOverDue } from './continueAsNew';
import type { FailoverContext } from './data';
import { westHealthy } from './readiness';
import { westSplitCatchUp } from './movePaths';
import { shiftTraffic } from './shiftTraffic';

export async function failBack(ctx: FailoverContext): Promise<void> {
  const { incident } = ctx;
  await failbackWindow(ctx);
  incident.setState('failing-back');
  const why = incident.failbackForced
    ? `failback forced by ${incident.failbackForced.by}`
    : `alert resolved and west healthy for ${ctx.config.failback.hysteresisSeconds} s`;
  incident.decide('FailingBack', why);
  if (ctx.westOptional) await westSplitCatchUp(ctx, (s) => `${s.namespace}/${s.split.name}`);
  await shiftTraffic(ctx, 'failback', failbackSteps(ctx.config), 'FailbackShift', why);
  incident.setState('failed-back');
  if (incident.status.sparesRegistered.length) {
    incident.decide('SparesKept', `${incident.status.sparesRegistered.join(', ')} stay in the load balancer: deregistration is an operator's decision`);
  }
}

/**
 * The hysteresis window: returns when west has been healthy for `hysteresisSeconds` since the alert
 * resolved, or at once when failback is forced. A new firing alert waits for the next resolution and
 * starts over; an unhealthy check starts the window over.
 */
async function failbackWindow(ctx: FailoverContext): Promise<void> {
  const { failback } = ctx.config;
  const { incident, tracker } = ctx;
  const { status } = incident;
  const windowMs = failback.hysteresisSeconds * 1000;
  // A run that continued from an earlier one keeps the window it had started.
  let healthySince: number | undefined = ctx.runsBefore > 0 && status.westHealthySince ? Date.parse(status.westHealthySince) : undefined;
  // Say "west is not healthy" once per unhealthy stretch, not on every check.
  let announcedUnhealthy = false;
  incident.setState('failback-window');
  for (;;) {
    if (incident.failbackForced) return;
    await handOver(ctx, 'failback');
    if (incident.resolvedAt === undefined && incident.alertsSeen) {
      // Fired again during the window: back to holding until the next resolution.
      healthySince = undefined;
      announcedUnhealthy = false;
      status.westHealthySince = undefined;
      incident.setState('failed-over');
      incident.decide('WindowRestarted', 'the alert fired again during the failback window; waiting for it to resolve');
      tracker.setPhase('waiting', 'the alert fired again: waiting for it to resolve before the window starts over');
      await condition(() => incident.resolvedAt !== undefined || incident.failbackForced !== undefined || handOverDue(ctx));
      tracker.setPhase('running');
      if (incident.resolvedAt === undefined && !incident.failbackForced) continue; // handed over at the top of the loop
      incident.setState('failback-window');
      continue;
    }
    if (!failback.automatic) {
      tracker.setPhase('waiting', 'resolved; automatic failback is off: signal "failback" to move traffic back');
      incident.decide('WaitingForOperator', 'alert resolved; automatic failback is off in the input');
      await condition(() => incident.failbackForced !== undefined || handOverDue(ctx));
      tracker.setPhase('running');
      if (!incident.failbackForced) continue; // handed over at the top of the loop
      return;
    }
    const health = await westHealthy(ctx);
    const now = Date.now();
    if (health.ok) {
      if (healthySince === undefined) {
        healthySince = now;
        announcedUnhealthy = false;
        status.westHealthySince = new Date(now).toISOString();
        incident.decide('WindowStarted', `west healthy (${health.why}); failing back after ${failback.hysteresisSeconds} s of health`);
      }
      if (now - healthySince >= windowMs) return;
    } else if (healthySince !== undefined || !announcedUnhealthy) {
      incident.decide(
        healthySince !== undefined ? 'WindowRestarted' : 'WaitingForWest',
        `${healthySince !== undefined ? 'west unhealthy again' : 'alert resolved but west is not healthy yet'}: ${health.why}`,
      );
      announcedUnhealthy = true;
      healthySince = undefined;
      status.westHealthySince = undefined;
    }
    const remaining = healthySince === undefined ? windowMs : windowMs - (now - healthySince);
    const waitMs = Math.max(1000, Math.min(failback.checkIntervalSeconds * 1000, remaining));
    tracker.setPhase(
      'waiting',
      healthySince === undefined
        ? `west to become healthy (${health.why})`
        : `west healthy since ${new Date(healthySince).toISOString()}; failback in ${Math.ceil(remaining / 1000)} s unless it fires again`,
    );
    const generation = incident.firingGeneration;
    await condition(() => incident.failbackForced !== undefined || incident.firingGeneration !== generation, waitMs);
    tracker.setPhase('running');
  }
}
