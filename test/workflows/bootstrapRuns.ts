/**
 * Running BootstrapStackedEtcd in its tests: to its end on a fresh stub worker, or until it holds for
 * the operator.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Progress } from '../../common/progress';
import type { FakeWorld } from '../support/fakeWorld';
import { eventually, stubWorker } from '../support/workflowHarness';

/** Runs the workflow to its end with a fresh worker on `world`. */
export async function runToEnd(env: TestWorkflowEnvironment, world: FakeWorld, input: unknown, id = `bootstrap-${Math.random().toString(36).slice(2)}`) {
  const { worker, taskQueue } = await stubWorker(env, world.activities());
  // Unless a test says otherwise, a failed step fails the run instead of holding it for an operator.
  const withPolicy = { onFailure: 'fail', ...(input as object) };
  return worker.runUntil(env.client.workflow.execute('BootstrapStackedEtcd', { args: [withPolicy], taskQueue, workflowId: id }));
}

/** The run's progress once it holds for the operator (a failed step waiting for retry or abort). */
export function untilHeld(handle: WorkflowHandle, what: string): Promise<Progress> {
  return eventually(
    async () => {
      const p = await handle.query<Progress>('progress');
      return p.phase === 'waiting' ? p : undefined;
    },
    20_000,
    what,
  );
}
