/**
 * The rotation's Temporal Schedule on a real dev server: spec and policies, create-then-update,
 * trigger starting a real rotation, the CLI's schedule functions, and BootstrapStackedEtcd creating it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureRotationSchedule } from '../../activities/rotation/schedule';
import { failureType } from '../../common/errors';
import { rotationScheduleId } from '../../common/inputs/rotateCertificateKey';
import { CliError } from '../../client/connection';
import { formatSchedules, listRotationSchedules, scheduleAction, scheduleRotate, scheduleRunOutcomes } from '../../client/schedule';
import type { BootstrapResult } from '../../workflows/bootstrap';
import type { RotationResult } from '../../workflows/rotate';
import { bootstrapInput } from '../support/inputs';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { rotationInput, rotationWorker, RotationWorld } from './harness';

let env: TestWorkflowEnvironment;
let dir: string;
before(async () => {
  env = await startTestTemporal();
  dir = mkdtempSync(path.join(tmpdir(), 'kubeha-schedule-'));
});
after(async () => {
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

const MINUTE = 60_000;

describe('rotation schedule', { timeout: 120_000 }, () => {
  test('is created with an interval, jitter, overlap SKIP and the catch-up window; a second create updates it', async () => {
    const first = await ensureRotationSchedule(env.client, {
      clusterName: 'alpha',
      schedule: { every: '90m' },
      workflowInput: rotationInput({ clusterName: 'alpha' }),
      taskQueue: 'kubeha-test',
    });
    assert.deepEqual(first, { scheduleId: 'rotate-certificate-key-alpha', created: true });
    const handle = env.client.schedule.getHandle(first.scheduleId);
    let d = await handle.describe();
    assert.equal(d.spec.intervals?.[0].every, 90 * MINUTE);
    assert.equal(d.spec.jitter, 5 * MINUTE);
    assert.equal(d.policies.overlap, 'SKIP');
    assert.equal(d.policies.catchupWindow, 10 * MINUTE);
    assert.equal(d.action.type, 'startWorkflow');
    assert.equal(d.action.workflowType, 'RotateCertificateKey');
    assert.equal(d.action.taskQueue, 'kubeha-test');
    assert.equal((d.action.args?.[0] as { clusterName: string }).clusterName, 'alpha');
    assert.equal(d.state.paused, false);

    await handle.pause('maintenance');
    const second = await ensureRotationSchedule(env.client, {
      clusterName: 'alpha',
      schedule: { every: '1h', jitter: '2m', catchupWindow: '30m' },
      workflowInput: rotationInput({ clusterName: 'alpha' }),
      taskQueue: 'kubeha-test',
    });
    assert.equal(second.created, false);
    d = await handle.describe();
    assert.equal(d.spec.intervals?.[0].every, 60 * MINUTE);
    assert.equal(d.spec.jitter, 2 * MINUTE);
    assert.equal(d.policies.catchupWindow, 30 * MINUTE);
    assert.equal(d.state.paused, true, 'an update keeps the paused state');
    assert.equal((await listRotationSchedules(env.client)).filter((s) => s.scheduleId === first.scheduleId).length, 1, 'still one schedule');
    await handle.delete();
  });

  test('settings that leave the key to lapse, and inputs for another cluster, are refused', async () => {
    const cases: Array<[object, object, RegExp]> = [
      [{ every: '2h' }, {}, /every: plus jitter must stay under 110m/],
      [{ every: '100m', jitter: '15m' }, {}, /every: plus jitter must stay under 110m/],
      [{ every: '5m' }, {}, /every: must be at least 10m/],
      [{ every: 'often' }, {}, /every: must be a duration/],
      [{}, { clusterName: 'beta' }, /workflowInput\.clusterName: is "beta"/],
    ];
    for (const [schedule, override, expected] of cases) {
      await assert.rejects(
        ensureRotationSchedule(env.client, {
          clusterName: 'alpha',
          schedule,
          workflowInput: rotationInput({ clusterName: 'alpha', ...override }),
          taskQueue: 'q',
        }),
        (err: unknown) => {
          assert.equal(failureType(err), 'InvalidInput');
          assert.match((err as Error).message, expected);
          return true;
        },
      );
    }
    await assert.rejects(env.client.schedule.getHandle(rotationScheduleId('alpha')).describe());
  });

  test('trigger runs a rotation on the worker', async () => {
    const rw = new RotationWorld();
    rw.world.initialized = true;
    const { worker, taskQueue } = await rotationWorker(env, rw.allActivities());
    await ensureRotationSchedule(env.client, {
      clusterName: 'gamma',
      schedule: { every: '90m' },
      workflowInput: rotationInput({ clusterName: 'gamma' }),
      taskQueue,
    });
    await worker.runUntil(async () => {
      await scheduleAction(env.client, 'trigger', rotationScheduleId('gamma'));
      const action = await eventually(
        async () => (await env.client.schedule.getHandle(rotationScheduleId('gamma')).describe()).info.recentActions[0],
        20_000,
        'the triggered run',
      );
      const result = (await env.client.workflow.getHandle(action.action.workflow.workflowId).result()) as RotationResult;
      assert.equal(result.clusterName, 'gamma');
      assert.equal(result.key?.rotated, true);
    });
    assert.equal(rw.world.count('rotate-key'), 1);
    await scheduleAction(env.client, 'delete', rotationScheduleId('gamma'));
  });

  test('the CLI functions: rotate from a bootstrap input file, then from the existing schedule; list, pause, unpause, delete', async () => {
    const file = path.join(dir, 'bootstrap.json');
    writeFileSync(file, JSON.stringify(bootstrapInput({ clusterName: 'delta' })));
    const created = await scheduleRotate(env.client, { cluster: 'delta', every: '90m', jitter: '5m', catchupWindow: '10m', file, taskQueue: 'kubeha' });
    assert.equal(created.created, true);
    const args = (await env.client.schedule.getHandle(created.scheduleId).describe()).action.args?.[0] as { hosts: { name: string }[] };
    assert.deepEqual(
      args.hosts.map((h) => h.name),
      ['cp-1', 'cp-2', 'cp-3', 'spare-1'],
      'workers are left out of the rotation input',
    );

    const updated = await scheduleRotate(env.client, { cluster: 'delta', every: '60m', jitter: '5m', catchupWindow: '10m', taskQueue: 'kubeha' });
    assert.deepEqual([updated.created, updated.inputFrom], [false, 'the existing schedule']);

    // The list comes from the visibility store, which follows a change after a moment.
    const listed = (pattern: RegExp) =>
      eventually(
        async () => {
          const line =
            formatSchedules(await listRotationSchedules(env.client))
              .split('\n')
              .find((l) => l.startsWith(created.scheduleId)) ?? '';
          return pattern.test(line) ? line : undefined;
        },
        15_000,
        `the list to show ${pattern}`,
      ).catch(async (err: Error) => assert.fail(`${err.message}; the list:\n${formatSchedules(await listRotationSchedules(env.client))}`));
    await scheduleAction(env.client, 'pause', created.scheduleId, 'testing');
    await listed(/paused {2}every 60m .*\(testing\)/);
    await scheduleAction(env.client, 'unpause', created.scheduleId);
    await listed(/active {2}every 60m/);
    await scheduleAction(env.client, 'delete', created.scheduleId);
    await assert.rejects(scheduleAction(env.client, 'pause', created.scheduleId), (err: unknown) => err instanceof CliError && /no schedule/.test(err.message));
    await assert.rejects(
      scheduleRotate(env.client, { cluster: 'nowhere', every: '90m', jitter: '5m', catchupWindow: '10m', taskQueue: 'kubeha' }),
      (err: unknown) => err instanceof CliError && err.exitCode === 2 && /no input for the rotation of "nowhere"/.test(err.message),
    );
  });

  test('BootstrapStackedEtcd creates the rotation schedule when its input asks for one', async () => {
    const rw = new RotationWorld(undefined, () => env.client);
    const { worker, taskQueue } = await rotationWorker(env, rw.allActivities());
    const result = (await worker.runUntil(
      env.client.workflow.execute('BootstrapStackedEtcd', {
        args: [{ ...bootstrapInput({ clusterName: 'epsilon' }), onFailure: 'fail', rotationSchedule: { every: '80m', paused: true } }],
        taskQueue,
        workflowId: `bootstrap-epsilon-${Date.now()}`,
      }),
    )) as BootstrapResult;
    assert.deepEqual(result.rotationSchedule, { scheduleId: 'rotate-certificate-key-epsilon', created: true });
    const d = await env.client.schedule.getHandle('rotate-certificate-key-epsilon').describe();
    assert.equal(d.spec.intervals?.[0].every, 80 * MINUTE);
    assert.equal(d.state.paused, true);
    assert.equal(d.action.taskQueue, taskQueue, 'scheduled runs go to the worker that bootstrapped');
    const input = d.action.args?.[0] as { hosts: { name: string }[]; kubeconfigSecret: string };
    assert.deepEqual(
      input.hosts.map((h) => h.name),
      ['cp-1', 'cp-2', 'cp-3', 'spare-1'],
    );
    assert.equal(input.kubeconfigSecret, 'clusters/test/admin-kubeconfig');
    await env.client.schedule.getHandle('rotate-certificate-key-epsilon').delete();
  });
  test('a scheduled rotation that fails ends failed instead of holding, the list shows it, and the next one runs', async () => {
    const rw = new RotationWorld();
    rw.world.initialized = true;
    rw.uploadFails = 'injected: upload-certs refused';
    const { worker, taskQueue } = await rotationWorker(env, rw.allActivities());
    // The input asks to hold on a failure; the schedule's runs must not.
    await ensureRotationSchedule(env.client, {
      clusterName: 'zeta',
      schedule: { every: '90m' },
      workflowInput: rotationInput({ clusterName: 'zeta', onFailure: 'wait' }),
      taskQueue,
    });
    const handle = env.client.schedule.getHandle(rotationScheduleId('zeta'));
    assert.equal(((await handle.describe()).action.args?.[0] as { onFailure: string }).onFailure, 'fail');
    const runOf = (n: number) => eventually(async () => (await handle.describe()).info.recentActions[n], 20_000, `run ${n + 1}`);
    const outcomes = async () =>
      scheduleRunOutcomes(
        env.client,
        (await listRotationSchedules(env.client)).find((s) => s.scheduleId === rotationScheduleId('zeta')) ?? assert.fail('listed'),
      );
    await worker.runUntil(async () => {
      await scheduleAction(env.client, 'trigger', rotationScheduleId('zeta'));
      const first = await runOf(0);
      // It failed: a held run would still be RUNNING, waiting for retry or abort.
      await assert.rejects(
        env.client.workflow.getHandle(first.action.workflow.workflowId).result(),
        (err: unknown) => err instanceof WorkflowFailedError && /step rotate-key failed/.test(String((err.cause as Error | undefined)?.message)),
      );
      const failed = await eventually(async () => ((await outcomes()).lastStatus === 'FAILED' ? outcomes() : undefined), 15_000, 'the failed run in the list');
      assert.deepEqual([failed.failedRecent, failed.recent], [1, 1]);
      const summaries = await listRotationSchedules(env.client);
      const text = formatSchedules(summaries, new Map([[rotationScheduleId('zeta'), failed]]));
      assert.match(
        text,
        new RegExp(
          `${rotationScheduleId('zeta')} .* failed\\n  ! 1 of the last 1 rotations failed, the last one too: kubeha status ${first.action.workflow.workflowId}`,
        ),
      );

      rw.uploadFails = undefined;
      await scheduleAction(env.client, 'trigger', rotationScheduleId('zeta'));
      const second = await runOf(1);
      const result = (await env.client.workflow.getHandle(second.action.workflow.workflowId).result()) as RotationResult;
      assert.equal(result.key?.rotated, true, 'the next rotation was not skipped behind a held one');
      const after = await eventually(async () => ((await outcomes()).lastStatus === 'COMPLETED' ? outcomes() : undefined), 15_000, 'the completed run');
      assert.deepEqual([after.failedRecent, after.recent], [1, 2]);
    });
    await scheduleAction(env.client, 'delete', rotationScheduleId('zeta'));
  });
});
