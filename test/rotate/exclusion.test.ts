/**
 * Key rotation and control-plane joins of one cluster never overlap: started together, a rotation
 * waits for a running join (and a join for a running upload), on the cluster lock. Proven from the
 * fake world's recorded start and end times.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CallRecord } from '../support/fakeWorld';
import type { Progress } from '../../common/progress';
import type { ClusterLockState } from '../../workflows/lock/protocol';
import { clusterLockId } from '../../workflows/lock/protocol';
import type { BootstrapResult } from '../../workflows/bootstrap';
import type { RotationResult } from '../../workflows/rotate';
import { bootstrapInput } from '../support/inputs';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { overlaps, rotationInput, rotationWorker, RotationWorld } from './harness';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const id = (what: string) => `${what}-${Math.random().toString(36).slice(2)}`;

/** Calls that depend on, or change, the uploaded certificate key. */
function keySensitive(calls: CallRecord[]): CallRecord[] {
  return calls.filter(
    (c) =>
      c.name === 'uploadCertificateKey' ||
      c.name === 'refreshJoinCredentials' ||
      (c.name === 'kubeadmJoin' && ['cp-2', 'cp-3', 'spare-1'].includes(c.host ?? '')),
  );
}

function assertNoOverlap(calls: CallRecord[]): void {
  const uploads = calls.filter((c) => c.name === 'uploadCertificateKey');
  const joins = keySensitive(calls).filter((c) => c.name !== 'uploadCertificateKey');
  for (const u of uploads) {
    for (const j of joins) assert.ok(!overlaps(u, j), `key upload [${u.start}, ${u.end}] overlaps ${j.name} of ${j.host} [${j.start}, ${j.end}]`);
  }
  for (let i = 0; i < uploads.length; i++) for (let k = i + 1; k < uploads.length; k++) assert.ok(!overlaps(uploads[i], uploads[k]), 'two uploads overlap');
}

describe('cluster lock: rotation and control-plane joins', { timeout: 180_000 }, () => {
  test('a rotation started during a control-plane join waits for it; later joins succeed with the new key', async () => {
    const rw = new RotationWorld();
    rw.world.joinDelayMs = 800;
    rw.uploadDelayMs = 300;
    const { worker, taskQueue } = await rotationWorker(env, rw.allActivities());
    await worker.runUntil(async () => {
      const bootstrap = await env.client.workflow.start('BootstrapStackedEtcd', {
        args: [{ ...bootstrapInput(), onFailure: 'fail' }],
        taskQueue,
        workflowId: id('bootstrap'),
      });
      // Start the rotation while cp-2's join holds the lock.
      await eventually(
        async () =>
          (await bootstrap.query<Progress>('progress')).steps
            .find((s) => s.step === 'join-control-plane')
            ?.hosts.some((h) => h.host === 'cp-2' && h.reason === 'Joining'),
        30_000,
        'cp-2 joining',
      );
      const rotation = await env.client.workflow.start('RotateCertificateKey', { args: [rotationInput()], taskQueue, workflowId: id('rotate') });
      const lock = env.client.workflow.getHandle(clusterLockId('west', taskQueue));
      const contended = await eventually(
        async () => {
          const state = await lock.query<ClusterLockState>('lockState');
          return state.holder?.purpose === 'join cp-2 as control plane' && state.waiting.some((w) => w.workflowId === rotation.workflowId) ? state : undefined;
        },
        20_000,
        'the rotation to queue behind the join',
      );
      assert.equal(contended.waiting[0].purpose, 'upload certificates under a new certificate key');
      const rotationProgress = await eventually(
        async () => {
          const p = await rotation.query<Progress>('progress');
          return p.steps.find((s) => s.step === 'rotate-key')?.reason === 'WaitingForClusterLock' ? p : undefined;
        },
        10_000,
        'the rotation to report it waits',
      );
      assert.match(rotationProgress.steps[1].message ?? '', /control-plane join or another key upload/);

      const [boot, rot] = (await Promise.all([bootstrap.result(), rotation.result()])) as [BootstrapResult, RotationResult];
      assert.equal(boot.etcd.members, 4, 'joins after the rotation succeeded');
      assert.equal(rot.key?.rotated, true);
    });
    const calls = rw.world.calls;
    assertNoOverlap(calls);
    const upload = calls.find((c) => c.name === 'uploadCertificateKey') as CallRecord;
    const cp2 = calls.find((c) => c.name === 'kubeadmJoin' && c.host === 'cp-2' && c.end - c.start >= 700) as CallRecord;
    assert.ok(upload.start >= cp2.end, 'the upload waited for cp-2 to finish joining');
    const later = calls.filter((c) => c.name === 'kubeadmJoin' && (c.host === 'cp-3' || c.host === 'spare-1'));
    assert.ok(
      later.every((c) => c.start >= upload.end),
      'cp-3 and the spare joined after the rotation',
    );
    // The bootstrap's stored key was replaced behind it: its next control-plane join refreshed once, under the lock.
    assert.equal(rw.world.count('join:cp-3'), 1);
    assert.equal(rw.world.count('rotate-key'), 1);
  });

  test('a rotation and a bootstrap started at the same moment never overlap, whichever gets the lock first', async () => {
    for (let round = 0; round < 2; round++) {
      const rw = new RotationWorld();
      rw.world.joinDelayMs = 200;
      rw.uploadDelayMs = 200;
      const { worker, taskQueue } = await rotationWorker(env, rw.allActivities());
      await worker.runUntil(async () => {
        const rot = env.client.workflow.execute('RotateCertificateKey', { args: [rotationInput()], taskQueue, workflowId: id('rotate') });
        const boot = env.client.workflow.execute('BootstrapStackedEtcd', {
          args: [{ ...bootstrapInput(), onFailure: 'fail' }],
          taskQueue,
          workflowId: id('bootstrap'),
        });
        const second = env.client.workflow.execute('RotateCertificateKey', { args: [rotationInput()], taskQueue, workflowId: id('rotate') });
        await Promise.all([rot, boot, second]);
      });
      assert.equal(rw.world.count('rotate-key'), 2);
      assert.ok(keySensitive(rw.world.calls).length >= 5);
      assertNoOverlap(rw.world.calls);
    }
  });

  test('a failed upload releases the lock: the next operation on the cluster does not wait, and the lock ends when idle', async () => {
    const rw = new RotationWorld();
    rw.uploadFails = 'upload-certs: etcdserver: request timed out';
    const { worker, taskQueue } = await rotationWorker(env, rw.allActivities());
    await worker.runUntil(async () => {
      await assert.rejects(
        env.client.workflow.execute('RotateCertificateKey', { args: [rotationInput()], taskQueue, workflowId: id('rotate') }),
        (err: unknown) => {
          assert.match((err as WorkflowFailedError).cause?.message ?? '', /step rotate-key failed: CommandFailed: upload-certs: etcdserver/);
          return true;
        },
      );
      rw.uploadFails = undefined;
      const started = Date.now();
      const result = (await env.client.workflow.execute('RotateCertificateKey', {
        args: [rotationInput()],
        taskQueue,
        workflowId: id('rotate'),
      })) as RotationResult;
      assert.equal(result.key?.rotated, true);
      assert.ok(Date.now() - started < 15_000);
      const lock = env.client.workflow.getHandle(clusterLockId('west', taskQueue));
      await eventually(async () => (await lock.describe()).status.name === 'COMPLETED', 10_000, 'the idle lock to end');
      const state = (await lock.result()) as ClusterLockState;
      assert.equal(state.holder, undefined);
      assert.deepEqual(state.waiting, []);
      assert.equal(state.grants, 1, 'this lock run granted the second rotation only');
    });
  });

  test('a holder that ended without releasing is detected and its lease dropped', async () => {
    const rw = new RotationWorld();
    const { worker, taskQueue } = await rotationWorker(env, rw.allActivities());
    await worker.runUntil(async () => {
      // A lock whose holder is a run that no longer exists (terminated, reset...): it can never release.
      const lockId = clusterLockId('west', taskQueue);
      const ghost = {
        leaseId: 'ghost-lease',
        workflowId: id('gone'),
        runId: '8d8d5d3e-0000-4000-8000-000000000000',
        purpose: 'join cp-9 as control plane',
        requestedAt: new Date().toISOString(),
        grantedAt: new Date().toISOString(),
      };
      await env.client.workflow.start('ClusterLock', {
        args: [{ clusterName: 'west', holder: ghost, probeIntervalSeconds: 1 }],
        taskQueue,
        workflowId: lockId,
      });
      const result = (await env.client.workflow.execute('RotateCertificateKey', {
        args: [rotationInput()],
        taskQueue,
        workflowId: id('rotate'),
      })) as RotationResult;
      assert.equal(result.key?.rotated, true);
    });
  });
});
