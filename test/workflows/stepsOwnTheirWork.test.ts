/**
 * Steps act only on what they own: a step that reads finds the load balancer and the cluster with
 * find-only activities and fails naming the step to run when they are missing; only
 * ensure-load-balancer creates the load balancer and only init-primary runs kubeadm init. Join
 * credentials go only to pinned hosts unless the input opts in. Real Temporal dev server, stub
 * activities (FakeWorld).
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
  const withPolicy = { onFailure: 'fail', ...(input as object) };
  return worker.runUntil(
    env.client.workflow.execute('BootstrapStackedEtcd', { args: [withPolicy], taskQueue, workflowId: `own-${Math.random().toString(36).slice(2)}` }),
  );
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => assert.fail('expected the run to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  let cause: unknown = err.cause;
  while ((cause as { cause?: unknown })?.cause) cause = (cause as { cause: unknown }).cause;
  return cause as Error;
}

const calledNames = (world: FakeWorld) => [...new Set(world.calls.map((c) => c.name))];

describe('steps own their work', { timeout: 120_000 }, () => {
  test('verify alone on a fresh cluster creates no load balancer and runs no kubeadm', async () => {
    const world = new FakeWorld();
    const cause = await failureOf(run(world, bootstrapInput({ onlySteps: ['verify'] })));
    assert.match(cause.message, /load balancer kube-api-west does not exist: run ensure-load-balancer first/);
    assert.match(failureInfo(cause)?.hint ?? '', /ensure-load-balancer step/);
    assert.deepEqual([...world.actions.keys()], [], 'nothing was created or changed');
    assert.deepEqual(calledNames(world), ['findLoadBalancer']);
  });

  test('join-workers alone after only the load balancer exists: no kubeadm init, it names init-primary', async () => {
    const world = new FakeWorld();
    await run(world, bootstrapInput({ onlySteps: ['ensure-load-balancer'] }));
    const cause = await failureOf(run(world, bootstrapInput({ onlySteps: ['join-workers'] })));
    assert.match(cause.message, /cluster west \(kubeadm init on cp-1\) does not exist: run init-primary first/);
    assert.equal(world.count('create-lb'), 1);
    assert.equal(world.count('init'), 0);
    assert.ok(!calledNames(world).includes('kubeadmInit'));
    assert.ok(!calledNames(world).includes('kubeadmJoin'));
  });

  test('verify after a full run finds what the owning steps made and repeats nothing', async () => {
    const world = new FakeWorld();
    await run(world, bootstrapInput());
    const callsBefore = world.calls.length;
    await run(world, bootstrapInput({ onlySteps: ['verify'] }));
    const verifyCalls = world.calls.slice(callsBefore).map((c) => c.name);
    assert.ok(verifyCalls.includes('findLoadBalancer') && verifyCalls.includes('findInitialized'));
    assert.ok(!verifyCalls.includes('ensureLoadBalancer') && !verifyCalls.includes('kubeadmInit'), verifyCalls.join(', '));
    assert.deepEqual(world.repeated(), []);
  });

  test('a trust-on-first-use host is refused before anything is touched unless the input opts in', async () => {
    const input = bootstrapInput();
    const hosts = input.hosts as { ssh: { hostKeyFingerprint?: string; trustOnFirstUse?: boolean } }[];
    delete hosts[4].ssh.hostKeyFingerprint;
    hosts[4].ssh.trustOnFirstUse = true;
    const world = new FakeWorld();
    const cause = await failureOf(run(world, input));
    assert.match(cause.message, /hosts\[4\]\.ssh\.hostKeyFingerprint: is required for a host that receives join credentials/);
    assert.equal(world.calls.length, 0, 'no activity ran: the TOFU host never received a token or certificate key');
    const optedIn = new FakeWorld();
    await run(optedIn, { ...input, joinCredentialsToUnpinnedHosts: true });
    assert.equal(optedIn.count('join:worker-1'), 1);
  });
});
