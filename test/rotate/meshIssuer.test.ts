/**
 * RotateCertificateKey's Linkerd issuer steps on a real Temporal dev server with stub activities: the
 * watch warns within the threshold, a due issuer is renewed once with identity rolled out and read
 * again, adopted trust and `renew: false` only warn, a dry run changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { IssuerExpiry, IssuerExpiryInput, MeshActivities, RenewIssuerInput, RenewIssuerResult } from '../../activities/mesh/types';
import type { WorkloadRef } from '../../activities/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { MeshIssuerInput } from '../../common/inputs/meshIssuer';
import type { Progress } from '../../common/progress';
import type { RotationResult } from '../../workflows/rotate';
import { startTestTemporal } from '../support/temporal';
import { rotationInput, rotationWorker, RotationWorld } from './harness';

const DAY = 24 * 3600_000;
const MESH: MeshIssuerInput = { pairName: 'west-east', role: 'west' };

/** The cluster's issuer and identity Deployment, as the stubs see them; counts what they change. */
class IssuerWorld {
  notAfter = Date.now() + 300 * DAY;
  fingerprint = 'aa'.repeat(32);
  /** False: adopted trust (no anchor key in the store). */
  anchorKey = true;
  secretWrites = 0;
  restarts = 0;
  readonly calls: string[] = [];
  readonly rollouts: Array<{ kubeconfigSecret: string; workloads: WorkloadRef[] }> = [];

  private expiry(input: IssuerExpiryInput): IssuerExpiry {
    const daysLeft = Math.floor((this.notAfter - Date.now()) / DAY);
    const notAfter = new Date(this.notAfter).toISOString();
    const due = daysLeft < input.thresholdDays;
    return {
      cluster: input.cluster,
      found: true,
      fingerprint: this.fingerprint,
      notAfter,
      daysLeft,
      due,
      ...(due ? { warning: `${input.cluster}: the Linkerd issuer expires at ${notAfter} (in ${daysLeft} days, within ${input.thresholdDays})` } : {}),
      ...(this.anchorKey ? { renewable: true } : { renewable: false, notRenewableReason: 'the trust of mesh pair "west-east" was adopted' }),
    };
  }

  private renew(input: RenewIssuerInput): RenewIssuerResult {
    if (!this.anchorKey) throw kubehaFailure({ type: ErrorType.Conflict, message: 'adopted', retryable: false, hint: 'injected' });
    const due = this.notAfter - Date.now() < input.thresholdDays * DAY;
    if (due) {
      this.notAfter = Date.now() + input.validityHours * 3600_000;
      this.fingerprint = `${this.secretWrites + 1}`.padStart(64, 'b');
      this.secretWrites++;
      this.restarts++;
    }
    return {
      cluster: input.cluster,
      secretWritten: due,
      stored: due,
      restarted: due,
      fingerprint: this.fingerprint,
      notAfter: new Date(this.notAfter).toISOString(),
      workload: { kind: 'Deployment', namespace: 'linkerd', name: 'linkerd-identity' },
      kubeconfigSecret: `mesh/${input.pairName}/${input.role}/kubeconfig`,
    };
  }

  activities(): Pick<MeshActivities, 'meshIssuerExpiry' | 'renewMeshIssuer'> & {
    waitRollout: (i: { kubeconfigSecret: string; workloads: WorkloadRef[] }) => Promise<void>;
  } {
    return {
      meshIssuerExpiry: async (input) => (this.calls.push('meshIssuerExpiry'), this.expiry(input)),
      renewMeshIssuer: async (input) => (this.calls.push('renewMeshIssuer'), this.renew(input)),
      waitRollout: async (input) => {
        this.calls.push('waitRollout');
        this.rollouts.push({ kubeconfigSecret: input.kubeconfigSecret, workloads: input.workloads });
      },
    };
  }
}

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

async function rotate(iw: IssuerWorld, input: unknown): Promise<{ result: RotationResult; progress: Progress }> {
  const rw = new RotationWorld();
  rw.world.initialized = true;
  const { worker, taskQueue } = await rotationWorker(env, { ...rw.allActivities(), ...iw.activities() });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('RotateCertificateKey', {
      args: [input],
      taskQueue,
      workflowId: `rotate-mesh-${Math.random().toString(36).slice(2)}`,
    });
    const result = (await handle.result()) as RotationResult;
    return { result, progress: await handle.query<Progress>('progress') };
  });
}

const stepOf = (progress: Progress, name: string) => progress.steps.find((s) => s.step === name);

describe('RotateCertificateKey: the Linkerd issuer in the expiry watch', { timeout: 120_000 }, () => {
  test('an issuer far from expiry: checked, not renewed, no warning', async () => {
    const iw = new IssuerWorld();
    const { result, progress } = await rotate(iw, rotationInput({ meshIssuer: MESH }));
    assert.equal(stepOf(progress, 'check-mesh-issuer')?.state, 'done');
    assert.equal(stepOf(progress, 'renew-mesh-issuer')?.state, 'skipped');
    assert.match(stepOf(progress, 'renew-mesh-issuer')?.message ?? '', /not within 60 days/);
    assert.deepEqual(iw.calls, ['meshIssuerExpiry']);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.meshIssuer?.due, false);
    assert.equal(result.meshIssuer?.renewed, false);
    assert.equal(progress.facts['Linkerd issuer expires'], new Date(iw.notAfter).toISOString());
  });

  test('an issuer within 60 days: renewed once, identity rolled out, read again; the result holds no warning', async () => {
    const iw = new IssuerWorld();
    iw.notAfter = Date.now() + 20 * DAY;
    const { result, progress } = await rotate(iw, rotationInput({ meshIssuer: MESH }));
    assert.deepEqual(iw.calls, ['meshIssuerExpiry', 'renewMeshIssuer', 'waitRollout', 'meshIssuerExpiry']);
    assert.equal(iw.secretWrites, 1);
    assert.equal(iw.restarts, 1);
    assert.deepEqual(iw.rollouts, [
      { kubeconfigSecret: 'mesh/west-east/west/kubeconfig', workloads: [{ kind: 'Deployment', namespace: 'linkerd', name: 'linkerd-identity' }] },
    ]);
    assert.equal(result.meshIssuer?.renewed, true);
    assert.equal(result.meshIssuer?.identityRestarted, true);
    assert.equal(result.meshIssuer?.due, false);
    assert.ok((result.meshIssuer?.daysLeft ?? 0) >= 364);
    assert.deepEqual(result.warnings, [], 'the warning was about the issuer that is gone');
    assert.match(stepOf(progress, 'check-mesh-issuer')?.message ?? '', /^west: the Linkerd issuer expires at .* \(in 19 days, within 60\)$/);
    assert.equal(stepOf(progress, 'renew-mesh-issuer')?.state, 'done');
    assert.match(stepOf(progress, 'renew-mesh-issuer')?.message ?? '', /linkerd-identity restarted and rolled out/);

    // The next scheduled run finds the renewed issuer: nothing is written again.
    await rotate(iw, rotationInput({ meshIssuer: MESH }));
    assert.equal(iw.secretWrites, 1);
  });

  test('adopted trust: a warning naming the cluster, the date and why; no renewal is attempted', async () => {
    const iw = new IssuerWorld();
    iw.notAfter = Date.now() + 10 * DAY;
    iw.anchorKey = false;
    const { result, progress } = await rotate(iw, rotationInput({ meshIssuer: MESH }));
    assert.deepEqual(iw.calls, ['meshIssuerExpiry']);
    assert.equal(result.warnings.length, 2);
    assert.match(result.warnings[0], /^west: the Linkerd issuer expires at \d{4}-\d\d-\d\dT.*\(in 9 days, within 60\)$/);
    assert.match(result.warnings[1], /^west: kubeha will not renew the Linkerd issuer: the trust of mesh pair "west-east" was adopted$/);
    assert.equal(stepOf(progress, 'renew-mesh-issuer')?.state, 'skipped');
    assert.match(stepOf(progress, 'renew-mesh-issuer')?.message ?? '', /kubeha will not renew it: .*adopted/);
  });

  test('renew: false and a dry run only warn', async () => {
    for (const input of [rotationInput({ meshIssuer: { ...MESH, renew: false } }), rotationInput({ meshIssuer: MESH, dryRun: true })]) {
      const iw = new IssuerWorld();
      iw.notAfter = Date.now() + 30 * DAY;
      const { result, progress } = await rotate(iw, input);
      assert.equal(iw.secretWrites, 0);
      assert.equal(iw.calls.includes('renewMeshIssuer'), false);
      assert.equal(result.warnings.length, 1);
      assert.match(stepOf(progress, 'renew-mesh-issuer')?.message ?? '', /watch only|dry run: would sign a new Linkerd issuer/);
    }
  });

  test('renew-mesh-issuer run alone reads the issuer itself and renews it', async () => {
    const iw = new IssuerWorld();
    iw.notAfter = Date.now() + 5 * DAY;
    const { result } = await rotate(iw, rotationInput({ meshIssuer: { ...MESH, thresholdDays: 30 }, onlySteps: ['renew-mesh-issuer'] }));
    assert.deepEqual(iw.calls, ['meshIssuerExpiry', 'renewMeshIssuer', 'waitRollout', 'meshIssuerExpiry']);
    assert.equal(result.meshIssuer?.renewed, true);
  });
});
