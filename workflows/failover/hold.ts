/** Step hold: stay failed over until the alert resolves or an operator forces the way back. */
import { condition } from '@temporalio/workflow';
import { handOver, handOverDue } from './continueAsNew';
import type { FailoverContext } from './data';

export async function hold(ctx: FailoverContext): Promise<void> {
  const { incident, tracker } = ctx;
  incident.setState('failed-over');
  const released = () => (incident.alertsSeen && incident.resolvedAt !== undefined) || incident.failbackForced !== undefined;
  if (!released()) {
    if (ctx.runsBefore === 0) incident.decide('Holding', `failed over; waiting for the alert to resolve (${incident.trigger()})`);
    tracker.setPhase('waiting', 'the alert to resolve (Alertmanager sends "resolved"), or a "failback" signal');
    while (!released()) {
      await condition(() => released() || handOverDue(ctx));
      await handOver(ctx, 'hold');
    }
    tracker.setPhase('running');
  }
  const forced = incident.failbackForced;
  tracker.setStep('hold', 'running', forced ? 'FailbackForced' : 'Resolved', forced ? `by ${forced.by}` : 'the alert resolved');
}
