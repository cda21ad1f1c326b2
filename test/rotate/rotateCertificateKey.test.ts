/**
 * RotateCertificateKey's decisions on a real Temporal dev server with stub activities over the fake
 * world: which host uploads, what is reported, what is renewed and in which order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { failureType } from '../../common/errors';
import { ROTATION_STEPS } from '../../common/inputs/rotateCertificateKey';
import type { Progress } from '../../common/progress';
import type { RotationResult } from '../../workflows/rotate';
import { startTestTemporal } from '../support/temporal';
import { rotationInput, rotationWorker, RotationWorld } from './harness';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const DAY = 24 * 3600_000;

async function rotate(rw: RotationWorld, input: unknown): Promise<{ result: RotationResult; progress: Progress }> {
  rw.world.initialized = true; // the API answers through the load balancer
  const { worker, taskQueue } = await rotationWorker(env, rw.allActivities());
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('RotateCertificateKey', {
      args: [input],
      taskQueue,
      workflowId: `rotate-${Math.random().toString(36).slice(2)}`,
    });
    const result = (await handle.result()) as RotationResult;
    return { result, progress: await handle.query<Progress>('progress') };
  });
}

describe('RotateCertificateKey', { timeout: 120_000 }, () => {
  test('uploads a new key on the first healthy control plane, reports it and the certificate expiry', async () => {
    const rw = new RotationWorld();
    const { result, progress } = await rotate(rw, rotationInput());
    assert.equal(result.host, 'cp-1');
    assert.equal(rw.world.count('rotate-key'), 1);
    assert.equal(rw.world.certificateKeyGeneration, 2, 'the world now accepts only the new key');
    assert.equal(result.key?.rotated, true);
    assert.equal(result.key?.previousKeyRejected, true);
    assert.equal(result.key?.certificateKeySecret, 'clusters/west/certificate-key');
    assert.ok(Date.parse(result.key?.expiresAt ?? '') - Date.parse(result.key?.uploadedAt ?? '') === 2 * 3600_000);
    assert.deepEqual(result.skippedHosts, []);
    assert.deepEqual(result.renewedHosts, []);
    assert.equal(JSON.stringify(result).includes('certificateKey":"'), false);
    assert.deepEqual(
      progress.steps.map((s) => [s.step, s.state]),
      [
        ['select-host', 'done'],
        ['rotate-key', 'done'],
        ['check-expiration', 'done'],
        ['renew-certificates', 'skipped'],
        ['check-mesh-issuer', 'skipped'],
        ['renew-mesh-issuer', 'skipped'],
      ],
    );
    assert.match(progress.steps[3].message ?? '', /no certificate expires within 30 days/);
    assert.match(progress.steps[4].message ?? '', /no meshIssuer in the input/);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.meshIssuer, undefined);
    assert.equal(rw.world.calls.filter((c) => c.name === 'certificateExpiration').length, 4, 'every control plane and the spare were checked');
    assert.ok(progress.facts['certificate key expires']);
  });

  test('an unhealthy first control plane is skipped with its reason; the next one uploads', async () => {
    const rw = new RotationWorld();
    rw.unhealthy.set('cp-1', 'unreachable: connect ECONNREFUSED 10.0.1.11:22');
    const { result, progress } = await rotate(rw, rotationInput());
    assert.equal(result.host, 'cp-2');
    assert.deepEqual(result.skippedHosts, [{ host: 'cp-1', reason: 'unreachable: connect ECONNREFUSED 10.0.1.11:22' }]);
    assert.equal(rw.world.calls.find((c) => c.name === 'uploadCertificateKey')?.host, 'cp-2');
    const select = progress.steps.find((s) => s.step === 'select-host');
    assert.deepEqual(
      select?.hosts.map((h) => [h.host, h.state, h.reason]),
      [
        ['cp-1', 'skipped', 'Unhealthy'],
        ['cp-2', 'done', 'Selected'],
      ],
    );
    const check = progress.steps.find((s) => s.step === 'check-expiration');
    assert.equal(check?.hosts.find((h) => h.host === 'cp-1')?.state, 'skipped');
  });

  test('no healthy control plane: the run fails naming every host and its reason, and nothing is uploaded', async () => {
    const rw = new RotationWorld();
    for (const h of ['cp-1', 'cp-2', 'cp-3', 'spare-1']) rw.unhealthy.set(h, `${h} API server down`);
    await assert.rejects(rotate(rw, rotationInput()), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        err.cause?.message ?? '',
        /step select-host failed: Unreachable: no healthy control-plane host among cp-1, cp-2, cp-3, spare-1: cp-1: cp-1 API server down; .*spare-1: spare-1 API server down/,
      );
      return true;
    });
    assert.equal(rw.world.count('rotate-key'), 0);
  });

  test('certificates within the threshold are renewed one host at a time, the API verified through the load balancer after each', async () => {
    const rw = new RotationWorld();
    rw.expiry.set('cp-1', Date.now() + 10 * DAY);
    rw.expiry.set('cp-3', Date.now() + 20 * DAY);
    rw.expiry.set('spare-1', Date.now() + 40 * DAY); // beyond the 30-day threshold
    const { result } = await rotate(rw, rotationInput());
    assert.deepEqual(result.renewedHosts, ['cp-1', 'cp-3']);
    assert.equal(result.soonestCertificate?.host, 'cp-1');
    assert.equal(rw.world.count('renew:cp-1'), 1);
    assert.equal(rw.world.count('renew:spare-1'), 0);
    const seq = rw.world.calls.filter((c) => c.name === 'renewCertificates' || c.name === 'apiReady').sort((a, b) => a.start - b.start);
    assert.deepEqual(
      seq.map((c) => (c.name === 'apiReady' ? 'api' : c.host)),
      ['cp-1', 'api', 'cp-3', 'api'],
    );
    for (let i = 1; i < seq.length; i++) assert.ok(seq[i].start >= seq[i - 1].end, 'renewals and checks run strictly one after another');
  });

  test('a higher threshold renews more; renewal disabled only reports', async () => {
    const rw = new RotationWorld();
    rw.expiry.set('cp-2', Date.now() + 50 * DAY);
    const { result } = await rotate(rw, rotationInput({ certificates: { thresholdDays: 60 } }));
    assert.deepEqual(result.renewedHosts, ['cp-2']);

    const reportOnly = new RotationWorld();
    reportOnly.expiry.set('cp-2', Date.now() + 5 * DAY);
    const { result: r2, progress } = await rotate(reportOnly, rotationInput({ certificates: { enabled: false } }));
    assert.deepEqual(r2.renewedHosts, []);
    assert.equal(r2.soonestCertificate?.host, 'cp-2');
    assert.equal(
      reportOnly.world.calls.some((c) => c.name === 'renewCertificates'),
      false,
    );
    assert.match(progress.steps.find((s) => s.step === 'renew-certificates')?.message ?? '', /renewal disabled/);
  });

  test('dry run probes and reports but uploads and renews nothing', async () => {
    const rw = new RotationWorld();
    rw.expiry.set('cp-1', Date.now() + DAY);
    const { result, progress } = await rotate(rw, rotationInput({ dryRun: true }));
    assert.equal(result.dryRun, true);
    assert.equal(rw.world.count('rotate-key'), 0);
    assert.equal(
      rw.world.calls.some((c) => c.name === 'renewCertificates'),
      false,
    );
    assert.match(progress.steps.find((s) => s.step === 'rotate-key')?.message ?? '', /dry run: would upload/);
    assert.match(progress.steps.find((s) => s.step === 'renew-certificates')?.message ?? '', /dry run: would renew the certificates of cp-1/);
  });

  test('onlySteps runs the key rotation alone', async () => {
    const rw = new RotationWorld();
    const { progress } = await rotate(rw, rotationInput({ onlySteps: ['select-host', 'rotate-key'] }));
    assert.deepEqual(
      progress.steps.map((s) => s.state),
      ['done', 'done', 'skipped', 'skipped', 'skipped', 'skipped'],
    );
    assert.equal(
      rw.world.calls.some((c) => c.name === 'certificateExpiration'),
      false,
    );
    assert.deepEqual(
      progress.steps.map((s) => s.step),
      [...ROTATION_STEPS],
    );
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'only workers',
      { hosts: [{ name: 'w-1', address: '10.0.0.1', role: 'worker', ssh: { privateKey: { file: '/k' }, trustOnFirstUse: true } }] },
      /hosts: needs at least one host with role "control-plane"/,
    ],
    ['a negative threshold', { certificates: { thresholdDays: -1 } }, /certificates\.thresholdDays/],
    ['an unknown field', { certificateKey: 'abc' }, /unknown field\(s\) "certificateKey"/],
    ['a bad kubeconfig secret name', { kubeconfigSecret: '/etc/kubernetes/admin.conf' }, /kubeconfigSecret: must be a secret name/],
  ];
  for (const [name, override, expected] of invalid) {
    test(`rejects ${name} before any activity runs`, async () => {
      const rw = new RotationWorld();
      await assert.rejects(rotate(rw, { ...rotationInput(), ...override }), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.equal(failureType(err.cause), 'InvalidInput');
        assert.match(err.cause?.message ?? '', expected);
        return true;
      });
      assert.equal(rw.world.calls.length, 0);
    });
  }
});
