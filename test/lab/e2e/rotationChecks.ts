/**
 * Pieces of the rotation end to end (rotation.test.ts): running RotateCertificateKey as the bootstrap's
 * schedule would, waiting for an API server after a host stopped, and what a rotation that passed over
 * a stopped control plane must report.
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { RotateCertificateKeyInput } from '../../../common/inputs/rotateCertificateKey';
import type { Progress } from '../../../common/progress';
import type { KubeClient } from '../../../lab/kube/client';
import type { RotationResult } from '../../../workflows/rotate';
import { explained } from './rotationSupport';

/** Runs RotateCertificateKey on every host but the workers (what BootstrapStackedEtcd hands its schedule); returns result and progress. */
export async function runRotation(
  client: Client,
  taskQueue: string,
  cluster: { clusterName: string; hosts: RotateCertificateKeyInput['hosts']; kubeconfigSecret: string },
  workflowId: string,
  extra: Partial<RotateCertificateKeyInput> = {},
): Promise<{ result: RotationResult; progress: Progress }> {
  const rotation: RotateCertificateKeyInput = {
    clusterName: cluster.clusterName,
    hosts: cluster.hosts.filter((h) => h.role !== 'worker'),
    kubeconfigSecret: cluster.kubeconfigSecret,
    onFailure: 'fail',
    ...extra,
  };
  const handle = await client.workflow.start('RotateCertificateKey', { taskQueue, workflowId, args: [rotation] });
  const result = (await handle.result().catch(explained)) as RotationResult;
  return { result, progress: await handle.query<Progress>('progress') };
}

/**
 * Waits until the API server has answered /readyz with 200 for `stableMs` without a miss, at most
 * `withinMs` (then the caller goes on and reports what it finds). Right after a host stops, the others'
 * API servers may still answer 200 until etcd notices its leader is gone; the election that follows
 * fails their /readyz for a moment, which the rotation's own probe would then meet.
 */
export async function apiReadyWithin(api: KubeClient, withinMs: number, stableMs = 5000): Promise<void> {
  let readySince: number | undefined;
  for (const deadline = Date.now() + withinMs; Date.now() < deadline;) {
    const ready = (await api.request('GET', '/readyz').catch(() => ({ status: 0 }))).status === 200;
    readySince = ready ? (readySince ?? Date.now()) : undefined;
    if (readySince !== undefined && Date.now() - readySince >= stableMs) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A rotation that passed over the stopped `first` with its reason and rotated on `second`; returns the reason. */
export function assertPassedOver(result: RotationResult, progress: Progress, first: string, second: string): string {
  assert.equal(progress.phase, 'succeeded');
  assert.equal(result.host, second);
  assert.equal(result.skippedHosts.length, 1, JSON.stringify(result.skippedHosts));
  assert.equal(result.skippedHosts[0].host, first);
  assert.match(result.skippedHosts[0].reason, /unreachable/i);
  const select = progress.steps.find((s) => s.step === 'select-host');
  const skipped = select?.hosts.find((h) => h.host === first);
  assert.equal(skipped?.state, 'skipped');
  assert.equal(skipped?.reason, 'Unhealthy');
  assert.equal(skipped?.message, result.skippedHosts[0].reason);
  assert.equal(select?.hosts.find((h) => h.host === second)?.state, 'done');
  assert.equal(progress.steps.find((s) => s.step === 'check-expiration')?.hosts.find((h) => h.host === first)?.state, 'skipped');
  return result.skippedHosts[0].reason;
}
