import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, RetryState, TerminatedFailure } from '@temporalio/common';
import { describeFailure } from '../../client/describeFailure';
import { ErrorType, kubehaFailure } from '../../common/errors';

describe('describeFailure', () => {
  test('lists the messages of the cause chain, the innermost type, and the outermost hint, step and host', () => {
    const command = kubehaFailure({
      type: ErrorType.CommandFailed,
      message: 'kubeadm join exited 1 on cp-2',
      retryable: false,
      hint: 'read the kubelet log on cp-2',
      details: { host: 'cp-2' },
    });
    const activity = new ActivityFailure('Activity task failed', 'joinControlPlane', '7', RetryState.NON_RETRYABLE_FAILURE, 'worker@x', command);
    const step = kubehaFailure({
      type: ErrorType.StepFailed,
      message: 'step join-control-plane failed',
      retryable: false,
      hint: 'fix cp-2, then start the bootstrap again: finished steps are skipped',
      details: { step: 'join-control-plane', host: 'cp-2' },
      cause: activity,
    });
    const err = new WorkflowFailedError('Workflow execution failed', step, RetryState.NON_RETRYABLE_FAILURE);
    assert.deepEqual(describeFailure(err), [
      'failed: step join-control-plane failed',
      '  cause: activity joinControlPlane failed',
      '  cause: kubeadm join exited 1 on cp-2',
      '  type: CommandFailed',
      '  step: join-control-plane',
      '  host: cp-2',
      '  hint: fix cp-2, then start the bootstrap again: finished steps are skipped',
    ]);
  });

  test('says a terminated run was terminated, with the reason', () => {
    const err = new WorkflowFailedError('Workflow execution failed', new TerminatedFailure('operator gave up'), RetryState.NON_RETRYABLE_FAILURE);
    assert.deepEqual(describeFailure(err), ['failed: terminated: operator gave up']);
  });

  test('a plain error gives its message', () => {
    assert.deepEqual(describeFailure(new Error('boom')), ['failed: boom']);
  });
});
