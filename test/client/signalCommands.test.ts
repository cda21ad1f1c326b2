/**
 * `kubeha retry` and `kubeha abort` as child processes, against a BootstrapStackedEtcd run held on a
 * failed step (stub activities on a real dev server).
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import type { Progress } from '../../common/progress';
import { FakeWorld, permanentFailure } from '../support/fakeWorld';
import { bootstrapInput } from '../support/inputs';
import { startTestTemporal } from '../support/temporal';
import { eventually, stubWorker } from '../support/workflowHarness';
import type { RecoverResult } from '../../workflows/recover';
import { bootstrappedZoneLost, recoverInput } from '../recover/fakeRecovery';
import { runCli } from './cliProcess';

describe('kubeha retry, abort, approve and reject', { timeout: 180_000 }, () => {
  let env: TestWorkflowEnvironment;
  let client: Client;
  // The CLI encrypts what it sends (the abort reason); the worker and this test read with the same keys.
  const { codec } = kubehaDataConverter();
  before(async () => {
    env = await startTestTemporal();
    client = new Client({ connection: env.connection, dataConverter: { payloadCodecs: [codec] } });
  });
  after(async () => {
    await env?.teardown();
  });

  /** Starts a run whose first prepareHost fails, and waits until it holds. */
  async function heldRun(world: FakeWorld, id: string) {
    world.injections.push({ activity: 'prepareHost', host: 'cp-1', error: permanentFailure('apt: dpkg was interrupted') });
    const { worker, taskQueue } = await stubWorker(env, world.activities(), undefined, { payloadCodecs: [codec] });
    const handle = await client.workflow.start('BootstrapStackedEtcd', { args: [bootstrapInput()], taskQueue, workflowId: id });
    return { worker, handle };
  }

  test('retry resumes a held run; a second retry on a finished run is refused with the reason', async () => {
    const world = new FakeWorld();
    const { worker, handle } = await heldRun(world, `cli-retry-${Date.now()}`);
    await worker.runUntil(async () => {
      await eventually(async () => (await handle.query<Progress>('progress')).phase === 'waiting', 30_000, 'the run to hold');
      const run = await runCli(['retry', handle.workflowId], { TEMPORAL_ADDRESS: env.address });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`sent retry to ${handle.workflowId}`));
      await handle.result();
    });
    assert.equal(world.count('prepare:cp-1'), 1);
    const again = await runCli(['retry', handle.workflowId], { TEMPORAL_ADDRESS: env.address });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is completed, not running: there is nothing to retry/);
  });

  test("abort stops a held run with the operator's reason", async () => {
    const world = new FakeWorld();
    const { worker, handle } = await heldRun(world, `cli-abort-${Date.now()}`);
    await worker.runUntil(async () => {
      await eventually(async () => (await handle.query<Progress>('progress')).phase === 'waiting', 30_000, 'the run to hold');
      const run = await runCli(['abort', handle.workflowId, 'host cp-1 is being replaced'], { TEMPORAL_ADDRESS: env.address });
      assert.equal(run.code, 0, run.stderr);
      await assert.rejects(handle.result(), (err: Error) =>
        /then aborted: host cp-1 is being replaced/.test(String((err as { cause?: Error }).cause?.message)),
      );
    });
    assert.equal(world.count('init'), 0);
  });

  test('approve answers a RecoverControlPlane that waits for approval, signed with the user name; reject ends another', async () => {
    for (const answer of ['approve', 'reject'] as const) {
      const { world, recovery } = await bootstrappedZoneLost(env);
      const { worker, taskQueue } = await stubWorker(env, { ...world.activities(), ...recovery.activities() }, undefined, { payloadCodecs: [codec] });
      const handle = await client.workflow.start('RecoverControlPlane', {
        args: [recoverInput({ approval: { required: true, timeoutMinutes: 5 }, onlySteps: ['precheck', 'approve'] })],
        taskQueue,
        workflowId: `cli-${answer}-${Date.now()}`,
      });
      const result = await worker.runUntil(async () => {
        await eventually(async () => (await handle.query<Progress>('progress')).phase === 'waiting', 30_000, 'the approval request');
        const run = await runCli([answer, handle.workflowId, 'zone a is gone'], { TEMPORAL_ADDRESS: env.address });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`sent ${answer} to ${handle.workflowId}`));
        return (await handle.result()) as RecoverResult;
      });
      const user = os.userInfo().username;
      if (answer === 'approve') assert.equal(result.approvedBy, user);
      else assert.deepEqual([result.outcome, result.reason], ['rejected', `rejected by ${user}: zone a is gone`]);
    }
  });

  test('an unknown workflow id is named', async () => {
    const run = await runCli(['retry', 'no-such-run'], { TEMPORAL_ADDRESS: env.address });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no workflow no-such-run in namespace default/);
  });
});
