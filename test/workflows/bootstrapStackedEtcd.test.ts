/**
 * BootstrapStackedEtcd's decisions, on a real Temporal dev server with stub activities (FakeWorld).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { failureInfo, failureType } from '../../common/errors';
import { BOOTSTRAP_STEPS } from '../../common/inputs/bootstrapStackedEtcd';
import type { Progress } from '../../common/progress';
import { bootstrapInput } from '../support/inputs';
import { FakeWorld, permanentFailure, transientFailure } from '../support/fakeWorld';
import { startTestTemporal } from '../support/temporal';
import { eventually, stubWorker } from '../support/workflowHarness';
import { BAD_INPUTS, FULL_RUN_ACTIONS, INJECTION_PER_STEP } from './bootstrapCases';
import { runToEnd, untilHeld } from './bootstrapRuns';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const run = (world: FakeWorld, input: unknown, id?: string) => runToEnd(env, world, input, id);

describe('BootstrapStackedEtcd', { timeout: 120_000 }, () => {
  test('bootstraps 3 control planes, a spare and 2 workers; the spare never enters the load balancer', async () => {
    const world = new FakeWorld();
    const result = await run(world, bootstrapInput());
    assert.deepEqual(result.controlPlanes, ['cp-1', 'cp-2', 'cp-3']);
    assert.deepEqual(result.spares, ['spare-1']);
    assert.deepEqual(result.etcd, { members: 4, quorum: 3, toleratesFailures: 1 });
    assert.equal(result.controlPlaneEndpoint, 'kube-api-west-1.elb.us-east-1.amazonaws.com:6443');
    assert.deepEqual([...world.actions.keys()].sort(), [...FULL_RUN_ACTIONS].sort());
    assert.deepEqual(world.repeated(), []);
    assert.equal(world.targets.has('10.0.2.11'), false, 'spare registered');
    assert.equal(
      world.calls.some((c) => c.name === 'registerTarget' && c.host === '10.0.2.11'),
      false,
    );
    assert.deepEqual([...world.targets.keys()].sort(), ['10.0.1.11', '10.0.1.12', '10.0.1.13']);
  });

  test('control-plane joins never overlap, and the primary is registered before kubeadm init', async () => {
    const world = new FakeWorld();
    world.joinDelayMs = 150;
    await run(world, bootstrapInput());
    const joins = world.calls.filter((c) => c.name === 'kubeadmJoin' && ['cp-2', 'cp-3', 'spare-1'].includes(c.host ?? '')).sort((a, b) => a.start - b.start);
    assert.equal(joins.length, 3);
    for (let i = 1; i < joins.length; i++) assert.ok(joins[i].start >= joins[i - 1].end, `${joins[i].host} started before ${joins[i - 1].host} ended`);
    const register = world.calls.find((c) => c.name === 'registerTarget' && c.host === '10.0.1.11');
    const init = world.calls.find((c) => c.name === 'kubeadmInit');
    assert.ok(register && init && register.end <= init.start, 'primary target registered before init');
  });

  test('a second run on the same world changes nothing', async () => {
    const world = new FakeWorld();
    await run(world, bootstrapInput());
    const before = new Map(world.actions);
    world.newRun();
    const result = await run(world, bootstrapInput());
    assert.deepEqual(world.actions, before);
    assert.deepEqual(world.repeated(), [], 'the second run asked for no change twice');
    assert.equal(result.etcd.members, 4);
  });

  test('repeated() reports a change asked for twice even when the idempotent stub changed nothing', async () => {
    // The same run's changes asked for a second time, on purpose: every stub finds its work done, so the
    // effects stay at one each, yet each second request is reported.
    const world = new FakeWorld();
    await run(world, bootstrapInput());
    assert.deepEqual(world.repeated(), []);
    const effects = new Map(world.actions);
    await run(world, bootstrapInput());
    assert.deepEqual(world.actions, effects, 'the stubs changed nothing the second time');
    const repeated = world.repeated();
    for (const call of ['ensureLoadBalancer', 'kubeadmInit:cp-1', 'kubeadmJoin:cp-2', 'kubeadmJoin:worker-1', 'applyManifest'])
      assert.ok(repeated.includes(call), `${call} reported in ${JSON.stringify(repeated)}`);
  });

  test('the progress query reports every step done, with host conditions and facts', async () => {
    const world = new FakeWorld();
    const { worker, taskQueue } = await stubWorker(env, world.activities());
    const progress = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('BootstrapStackedEtcd', { args: [bootstrapInput()], taskQueue, workflowId: `progress-${Date.now()}` });
      await handle.result();
      return handle.query<Progress>('progress');
    });
    assert.equal(progress.phase, 'succeeded');
    assert.deepEqual(
      progress.steps.map((s) => s.step),
      [...BOOTSTRAP_STEPS],
    );
    assert.ok(
      progress.steps.every((s) => s.state === 'done'),
      JSON.stringify(progress.steps.map((s) => [s.step, s.state])),
    );
    const joinCp = progress.steps.find((s) => s.step === 'join-control-plane');
    assert.deepEqual(
      joinCp?.hosts.map((h) => [h.host, h.state]),
      [
        ['cp-2', 'done'],
        ['cp-3', 'done'],
      ],
    );
    assert.match(progress.facts['etcd quorum'], /3 of 4 voters/);
    assert.equal(progress.facts['load balancer'], 'kube-api-west-1.elb.us-east-1.amazonaws.com');
  });

  // One failure per step: the run holds, the operator signals retry, the run completes, nothing repeats.
  for (const [step, activity, target] of INJECTION_PER_STEP) {
    test(`a failure in ${step} holds the run; "retry" resumes it there without repeating any side effect`, async () => {
      const world = new FakeWorld();
      world.injections.push({ activity, host: target, error: permanentFailure(`injected failure in ${activity}`) });
      const { worker, taskQueue } = await stubWorker(env, world.activities());
      await worker.runUntil(async () => {
        const handle = await env.client.workflow.start('BootstrapStackedEtcd', {
          args: [bootstrapInput()],
          taskQueue,
          workflowId: `fail-${step}-${Date.now()}`,
        });
        const held = await untilHeld(handle, `${step} to hold`);
        const failed = held.steps.find((s) => s.step === step);
        assert.equal(failed?.state, 'failed');
        assert.match(failed?.message ?? '', new RegExp(`injected failure in ${activity}`));
        assert.match(held.waitingFor ?? '', new RegExp(`step ${step} failed.*retry`));
        const stepsAfter = held.steps.slice(BOOTSTRAP_STEPS.indexOf(step as (typeof BOOTSTRAP_STEPS)[number]) + 1);
        assert.ok(
          stepsAfter.every((s) => s.state === 'pending'),
          'later steps did not start',
        );
        world.newRun(); // the retried step asks again for what it had done: idempotent, not a repeat
        await handle.signal('retry');
        const result = await handle.result();
        assert.equal(result.etcd.members, 4);
        const progress = await handle.query<Progress>('progress');
        assert.equal(progress.steps.find((s) => s.step === step)?.attempts, 2);
      });
      assert.deepEqual([...world.actions.keys()].sort(), [...FULL_RUN_ACTIONS].sort());
      assert.deepEqual(world.repeated(), [], 'a side effect was repeated');
    });
  }

  test('a transient activity failure is retried by Temporal without the operator', async () => {
    const world = new FakeWorld();
    world.injections.push({ activity: 'registerTarget', host: '10.0.1.12', error: transientFailure('connection reset') });
    const result = await run(world, bootstrapInput());
    assert.equal(result.controlPlanes.length, 3);
    assert.equal(world.calls.filter((c) => c.name === 'registerTarget' && c.host === '10.0.1.12').length, 2);
    assert.deepEqual(world.repeated(), []);
  });

  test('onFailure "fail" fails the run with an error that names the step, type and hint', async () => {
    const world = new FakeWorld();
    world.injections.push({ activity: 'kubeadmJoin', host: 'cp-2', error: permanentFailure('preflight: port 10250 in use') });
    await assert.rejects(run(world, bootstrapInput({ onFailure: 'fail' })), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(err.cause?.message ?? '', /step join-control-plane failed: CommandFailed: preflight: port 10250 in use/);
      assert.equal(failureType(err.cause), 'CommandFailed');
      assert.equal(failureInfo(err.cause)?.hint, 'injected by the test');
      return true;
    });
    assert.equal(world.count('join:cp-3'), 0, 'no join after the failed one');
  });

  test('"abort" ends a held run with the reason', async () => {
    const world = new FakeWorld();
    world.injections.push({ activity: 'prepareHost', host: 'cp-1', error: permanentFailure('apt: no space left') });
    const { worker, taskQueue } = await stubWorker(env, world.activities());
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('BootstrapStackedEtcd', { args: [bootstrapInput()], taskQueue, workflowId: `abort-${Date.now()}` });
      await untilHeld(handle, 'hold');
      await handle.signal('abort', 'disk full, rebuilding the host');
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.match(
          (err as WorkflowFailedError).cause?.message ?? '',
          /step prepare-hosts failed: CommandFailed: apt: no space left \(then aborted: disk full, rebuilding the host\)/,
        );
        return true;
      });
      assert.equal((await handle.query<Progress>('progress')).phase, 'failed');
    });
    assert.equal(world.count('init'), 0);
  });

  test('expired credentials are refreshed: ahead of time, and when kubeadm rejects them', async () => {
    const world = new FakeWorld();
    // Uploaded certificates that expire within the margin are re-uploaded before each control-plane join.
    world.certificateKeyLifetimeMs = 60_000;
    await run(world, bootstrapInput());
    assert.ok(world.count('refresh-certificate-key') >= 3, `refreshed ${world.count('refresh-certificate-key')} times`);
    assert.equal(world.count('join:cp-2'), 1);

    // A key rotated behind kubeha's back: kubeadm says the certs are gone; kubeha refreshes and joins.
    const rotated = new FakeWorld();
    await run(rotated, bootstrapInput({ onlySteps: ['ensure-load-balancer', 'prepare-hosts', 'init-primary'] }));
    rotated.certificateKeyGeneration++; // someone uploaded a new key; kubeha's stored one is now wrong
    rotated.tokenGeneration++; // and the token was deleted
    rotated.newRun();
    const result = await run(rotated, bootstrapInput());
    assert.equal(result.etcd.members, 4);
    assert.equal(rotated.count('refresh-certificate-key'), 1);
    assert.equal(rotated.count('refresh-token'), 1);
    assert.deepEqual(rotated.repeated(), []);
  });

  test('dry run touches nothing and says what it would do', async () => {
    const world = new FakeWorld();
    const { worker, taskQueue } = await stubWorker(env, world.activities());
    const progress = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('BootstrapStackedEtcd', {
        args: [bootstrapInput({ dryRun: true })],
        taskQueue,
        workflowId: `dry-${Date.now()}`,
      });
      const result = await handle.result();
      assert.equal(result.dryRun, true);
      return handle.query<Progress>('progress');
    });
    assert.equal(world.count('init'), 0);
    assert.equal([...world.actions.keys()].filter((k) => k !== 'create-lb').length, 0, 'no host was changed');
    const join = progress.steps.find((s) => s.step === 'join-control-plane');
    assert.equal(join?.state, 'skipped');
    assert.match(join?.message ?? '', /dry run: would join cp-2, cp-3 one at a time/);
  });

  test('onlySteps and skipSteps select steps by name', async () => {
    const world = new FakeWorld();
    await run(world, bootstrapInput({ onlySteps: ['ensure-load-balancer', 'prepare-hosts'] }));
    assert.equal(world.count('create-lb'), 1);
    assert.equal(world.count('prepare:cp-1'), 1);
    assert.equal(world.count('init'), 0);
    const second = new FakeWorld();
    await run(second, bootstrapInput({ skipSteps: ['join-workers', 'verify'] }));
    assert.equal(second.count('join:worker-1'), 0);
    assert.equal(second.count('join:cp-3'), 1);
  });

  test('a step run alone finds what earlier steps made (join-workers after a partial run)', async () => {
    const world = new FakeWorld();
    await run(world, bootstrapInput({ skipSteps: ['join-workers', 'verify'] }));
    world.newRun();
    await run(world, bootstrapInput({ onlySteps: ['join-workers', 'verify'] }));
    assert.equal(world.count('join:worker-1'), 1);
    assert.equal(world.count('init'), 1);
    assert.deepEqual(world.repeated(), []);
  });

  test('a worker that dies mid-step is replaced and the run completes without repeats', async () => {
    const world = new FakeWorld();
    let release!: () => void;
    world.gate = new Promise<void>((r) => (release = r));
    const first = await stubWorker(env, world.activities());
    const handle = await env.client.workflow.start('BootstrapStackedEtcd', {
      args: [bootstrapInput()],
      taskQueue: first.taskQueue,
      workflowId: `crash-${Date.now()}`,
    });
    const running = first.worker.run();
    await eventually(
      async () => world.calls.length > 0 && world.count('init') === 1 && (await handle.query<Progress>('progress')).currentStep === 'wait-target-healthy',
      20_000,
      'the run to reach wait-target-healthy',
    );
    first.worker.shutdown();
    release();
    await running;
    const second = await stubWorker(env, world.activities(), first.taskQueue);
    const result = await second.worker.runUntil(handle.result());
    assert.equal(result.etcd.members, 4);
    assert.deepEqual(world.repeated(), []);
  });
});

describe('BootstrapStackedEtcd input validation', { timeout: 60_000 }, () => {
  for (const [name, breakIt, expected] of BAD_INPUTS) {
    test(`rejects ${name} before any activity runs`, async () => {
      const world = new FakeWorld();
      const input = structuredClone(bootstrapInput()) as unknown as Record<string, unknown>;
      breakIt(input);
      await assert.rejects(run(world, input), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.equal(failureType(err.cause), 'InvalidInput');
        assert.match(err.cause?.message ?? '', expected);
        return true;
      });
      assert.equal(world.calls.length, 0, `activities ran: ${world.calls.map((c) => c.name).join(', ')}`);
    });
  }

  test('names every bad field at once', async () => {
    const world = new FakeWorld();
    const input = structuredClone(bootstrapInput()) as unknown as Record<string, unknown>;
    input.clusterName = '';
    input.podCidr = '10.0.0.0/33';
    (input.hosts as { ssh: { port: number } }[])[0].ssh.port = 70000;
    await assert.rejects(run(world, input), (err: unknown) => {
      const message = (err as WorkflowFailedError).cause?.message ?? '';
      assert.match(message, /clusterName: /);
      assert.match(message, /podCidr: /);
      assert.match(message, /hosts\[0\]\.ssh\.port: /);
      return true;
    });
    assert.equal(world.calls.length, 0);
  });
});
