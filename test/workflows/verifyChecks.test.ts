/**
 * The verify step runs the bootstrap's check records: on a cluster that drifted after its bootstrap
 * (a worker NotReady, a control plane's target unhealthy), verify run alone fails naming each problem,
 * with the hint of each failing check. Real Temporal dev server, stub activities (FakeWorld).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { failureInfo } from '../../common/errors';
import { bootstrapInput } from '../support/inputs';
import { FakeWorld } from '../support/fakeWorld';
import { startTestTemporal } from '../support/temporal';
import { stubWorker } from '../support/workflowHarness';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

async function run(world: FakeWorld, input: unknown) {
  const { worker, taskQueue } = await stubWorker(env, world.activities());
  return worker.runUntil(
    env.client.workflow.execute('BootstrapStackedEtcd', {
      args: [{ onFailure: 'fail', ...(input as object) }],
      taskQueue,
      workflowId: `verify-${Math.random().toString(36).slice(2)}`,
    }),
  );
}

describe('verify runs the check records', { timeout: 120_000 }, () => {
  test('a drifted cluster fails verify with every problem and the hint of each failing check', async () => {
    const world = new FakeWorld();
    await run(world, bootstrapInput());
    const worker = [...world.nodes.entries()].find(([, n]) => !n.controlPlane)![0];
    world.nodes.set(worker, { ready: false, controlPlane: false });
    const [firstTarget] = [...world.targets.keys()];
    world.targets.set(firstTarget, 'unhealthy');
    const err = await run(world, bootstrapInput({ onlySteps: ['verify'] })).then(
      () => assert.fail('verify passed on a drifted cluster'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    let cause: unknown = err.cause;
    while ((cause as { cause?: unknown })?.cause) cause = (cause as { cause: unknown }).cause;
    const failure = cause as Error;
    assert.match(failure.message, new RegExp(`node ${worker} is not Ready`));
    assert.match(failure.message, /target cp-\d is unhealthy/);
    const hint = failureInfo(failure)?.hint ?? '';
    assert.match(hint, /every host has a Ready Node: kubectl describe node/);
    assert.match(hint, /the serving control planes are healthy targets of the load balancer: /);
    assert.doesNotMatch(hint, /etcd/, 'passing checks add no hint');
  });
});
