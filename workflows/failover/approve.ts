/** Step approve: wait for an operator's decision, or apply the input's default when none comes in time. */
import { condition } from '@temporalio/workflow';
import type { FailoverContext } from './data';

export async function awaitApproval(ctx: FailoverContext): Promise<void> {
  const { approval } = ctx.config;
  const { incident, tracker } = ctx;
  const resolvedFirst = () => incident.alertsSeen && incident.resolvedAt !== undefined;
  incident.setState('awaiting-approval');
  tracker.setPhase('waiting', `approval: signal "approve" or "reject" within ${approval.timeoutMinutes} min (then: ${approval.onTimeout})`);
  const answered = await condition(() => incident.approval !== undefined || resolvedFirst(), `${approval.timeoutMinutes * 60} seconds`);
  tracker.setPhase('running');
  if (!incident.approval && resolvedFirst()) {
    ctx.stop = { outcome: 'rejected', reasons: ['the alert resolved before anyone approved'] };
  } else if (!answered || !incident.approval) {
    incident.approveByDefault({ decision: approval.onTimeout, by: `timeout (${approval.timeoutMinutes} min, default ${approval.onTimeout})` });
  }
  const decided = incident.approval;
  if (decided?.decision === 'approve') {
    incident.status.approvedBy = decided.by;
    incident.decide('Approved', `approved by ${decided.by}${decided.comment ? `: ${decided.comment}` : ''}`);
    tracker.setStep('approve', 'running', 'Approved', `by ${decided.by}`);
    return;
  }
  if (decided) ctx.stop = { outcome: 'rejected', reasons: [`rejected by ${decided.by}${decided.comment ? `: ${decided.comment}` : ''}`] };
  incident.setState('rejected');
  incident.decide('Rejected', ctx.stop?.reasons.join('; ') ?? 'rejected');
  tracker.setStep('approve', 'running', 'Rejected', ctx.stop?.reasons.join('; '));
}
