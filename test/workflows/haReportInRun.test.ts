/**
 * The HA report travels with the bootstrap: in its result, and as a fact of its progress (the Web UI's
 * current details), computed from the run's own topology with zones.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Progress } from '../../common/progress';
import type { BootstrapResult } from '../../workflows/bootstrap';
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

test('the bootstrap result and its progress carry the HA report of the zoned topology', { timeout: 120_000 }, async () => {
  const input = bootstrapInput();
  const zones: Record<string, string> = {
    'cp-1': 'us-east-1a',
    'cp-2': 'us-east-1a',
    'cp-3': 'us-east-1a',
    'spare-1': 'us-east-1b',
    'worker-1': 'us-east-1a',
    'worker-2': 'us-east-1b',
  };
  const zoned = { ...input, onFailure: 'fail', hosts: input.hosts.map((h) => ({ ...h, zone: zones[h.name] })) };
  const { worker, taskQueue } = await stubWorker(env, new FakeWorld().activities());
  const id = `bootstrap-ha-${Date.now()}`;
  const { result, progress } = await worker.runUntil(async () => {
    const done = (await env.client.workflow.execute('BootstrapStackedEtcd', { args: [zoned], taskQueue, workflowId: id })) as BootstrapResult;
    return { result: done, progress: await env.client.workflow.getHandle(id).query<Progress>('progress') };
  });
  assert.deepEqual([result.haReport.voters, result.haReport.quorum, result.haReport.failuresTolerated], [4, 3, 1]);
  assert.deepEqual(
    result.haReport.zones.map((z) => [z.zone, z.keepsQuorum, z.recovery]),
    [
      ['us-east-1a', false, 'survivor'],
      ['us-east-1b', true, 'none-needed'],
    ],
  );
  assert.equal(result.haReport.model.level, 3);
  assert.equal(
    progress.facts['high availability'],
    'model 3 of 4 (multiple instances on multiple hosts); losing us-east-1a (restore from spare-1) stops the API; 3 warning(s): kubeha report',
  );
});
