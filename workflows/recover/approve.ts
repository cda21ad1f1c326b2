/**
 * Step approve: an operator's `approve` or `reject` signal before etcd is restored. Nobody answering in
 * time means no restore: forcing a new cluster is never done by default.
 */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { APPROVE_SIGNAL, type ApprovalDecision, REJECT_SIGNAL } from '../../common/inputs/failoverMessages';
import type { RecoverContext } from './data';

/** Signal: restore etcd (the same names FailoverToEast takes). */
export const recoverApproveSignal = defineSignal<[ApprovalDecision?]>(APPROVE_SIGNAL);
/** Signal: do not restore; the run ends rejected. */
export const recoverRejectSignal = defineSignal<[ApprovalDecision?]>(REJECT_SIGNAL);

/** The first answer, kept by the handlers installed at the start of the run. */
let answer: { decision: 'approve' | 'reject'; by: string; comment?: string } | undefined;

export function installApprovalHandlers(): void {
  const keep = (decision: 'approve' | 'reject') => (d?: ApprovalDecision) => {
    answer ??= { decision, by: d?.by ?? 'operator', comment: d?.comment };
  };
  setHandler(recoverApproveSignal, keep('approve'));
  setHandler(recoverRejectSignal, keep('reject'));
}

export async function approveStep(ctx: RecoverContext): Promise<void> {
  const { timeoutMinutes } = ctx.config.approval;
  const survivors = Object.values(ctx.probes)
    .filter((p) => p.answers)
    .map((p) => p.host);
  const what = survivors.length
    ? `restore etcd from ${survivors.join(', ')} (the other members' data is given up)`
    : `restore the newest backup on ${ctx.config.snapshot?.host ?? '?'} (every member lost its data; writes since that backup are given up)`;
  ctx.tracker.setPhase('waiting', `approval: signal "approve" to ${what}, or "reject", within ${timeoutMinutes} min`);
  await condition(() => answer !== undefined, `${Math.round(timeoutMinutes * 60)} seconds`);
  ctx.tracker.setPhase('running');
  if (answer?.decision === 'approve') {
    ctx.approvedBy = answer.by;
    ctx.tracker.setStep('approve', 'running', 'Approved', `by ${answer.by}${answer.comment ? `: ${answer.comment}` : ''}`);
    return;
  }
  const reason = answer ? `rejected by ${answer.by}${answer.comment ? `: ${answer.comment}` : ''}` : `nobody approved within ${timeoutMinutes} min`;
  ctx.stop = { outcome: 'rejected', reason };
  ctx.tracker.setStep('approve', 'running', 'Rejected', reason);
}
