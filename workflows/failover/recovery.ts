/**
 * West's etcd lost quorum: the spare cannot serve, so FailoverToEast starts RecoverControlPlane for west
 * (`controlPlane.recover`: with an operator's approval, or without) instead of only holding. The recovery
 * is a workflow of its own, under its one-per-cluster id: it outlives this run, and a second incident
 * finds it running instead of starting another.
 */
import { ParentClosePolicy, ChildWorkflowCancellationType, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { recoverWorkflowId } from '../../common/inputs/recoverControlPlane';
import type { FailoverContext } from './data';

export async function startRecovery(ctx: FailoverContext, quorumText: string): Promise<void> {
  const cp = ctx.config.controlPlane;
  const { incident, tracker } = ctx;
  if (!cp) return;
  if (cp.recover === 'never' || !cp.recovery) {
    const why = cp.recover === 'never' ? 'controlPlane.recover is "never"' : 'the input has no controlPlane.recovery';
    incident.decide('RecoveryNotStarted', `${why}: restore west's etcd quorum with kubeha recover`);
    return;
  }
  const workflowId = recoverWorkflowId(cp.recovery.cluster.clusterName);
  const required = cp.recover === 'approve';
  const input = { ...cp.recovery, approval: { ...cp.recovery.approval, required } };
  let what = 'RecoveryStarted';
  try {
    await startChild('RecoverControlPlane', {
      workflowId,
      args: [input],
      // The recovery goes on whatever this run does next (failback, a new incident, termination).
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    what = 'RecoveryAlreadyRunning';
  }
  incident.status.recovery = { workflowId, approval: required ? 'required' : 'none' };
  const how = required ? 'waits for an "approve" signal before it restores' : 'restores without approval once its precheck holds';
  incident.decide(what, `${what === 'RecoveryStarted' ? 'started' : 'found running'} RecoverControlPlane ${workflowId} (${how}) because ${quorumText}`);
  tracker.setFact('control-plane recovery', `${workflowId}: ${how}`);
}
