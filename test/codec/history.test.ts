/**
 * With kubeha's data converter on the worker and the client, Temporal's history holds no plaintext of
 * what workflows and activities exchange: `temporal workflow show --output json` of every run is
 * searched for the actual values (also inside base64), while the runs still complete and the client
 * still reads their results. The same runs without the codec show the values, proving the search.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, type WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { dataConverterFor } from '../../lib/codec/dataConverter';
import { generateKey, keyringOf } from '../../lib/codec/keyring';
import type { RotationResult } from '../../workflows/rotate';
import { workflowHistories } from '../support/secretScan';
import { startTestTemporal } from '../support/temporal';
import { rotationBundle, rotationInput, RotationWorld } from '../rotate/harness';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

/** The history of every run on a task queue, as `temporal workflow show --output json` prints it. */
function histories(taskQueue: string): { workflowId: string; text: string[] }[] {
  return workflowHistories({ address: env.address, namespace: env.namespace }, `TaskQueue="${taskQueue}"`).map((h) => ({
    workflowId: h.workflowId,
    text: h.texts,
  }));
}

/** Runs a rotation (input and result carrying markers) and a failing one (message carrying a marker). */
async function runWithMarkers(encrypted: boolean): Promise<{ taskQueue: string; markers: string[]; result: RotationResult; failure: string }> {
  const markers = ['input', 'result', 'failure'].map((what) => `${what}-${randomBytes(12).toString('hex')}`);
  const keyring = keyringOf([generateKey()]);
  const converter = encrypted ? dataConverterFor(keyring).dataConverter : undefined;
  const taskQueue = `codec-${encrypted}-${randomBytes(4).toString('hex')}`;
  const rw = new RotationWorld();
  rw.world.initialized = true;
  const stubs = rw.activities();
  const activities = {
    ...rw.allActivities(),
    uploadCertificateKey: async (input: Parameters<typeof stubs.uploadCertificateKey>[0]) => {
      if (input.clusterName === 'broken')
        throw kubehaFailure({ type: ErrorType.CommandFailed, message: `upload-certs printed ${markers[2]}`, retryable: false, hint: 'test' });
      return { ...(await stubs.uploadCertificateKey(input)), recordSecret: `clusters/west/${markers[1]}` };
    },
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await rotationBundle(encrypted),
    activities,
    dataConverter: converter,
    shutdownGraceTime: '1 second',
  });
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: converter });
  const input = rotationInput();
  input.hosts = input.hosts.map((h) => ({ ...h, ssh: { ...h.ssh, privateKey: { file: `/etc/kubeha/ssh/${markers[0]}` } } }));
  return worker.runUntil(async () => {
    const result = (await client.workflow.execute('RotateCertificateKey', { args: [input], taskQueue, workflowId: `codec-ok-${taskQueue}` })) as RotationResult;
    let failure = '';
    await client.workflow
      .execute('RotateCertificateKey', { args: [{ ...input, clusterName: 'broken' }], taskQueue, workflowId: `codec-fail-${taskQueue}` })
      .catch((err: unknown) => {
        failure = (err as WorkflowFailedError).cause?.message ?? '';
      });
    return { taskQueue, markers, result, failure };
  });
}

describe('payload encryption in history', { timeout: 120_000 }, () => {
  test('with the codec, no history holds an input, result or failure value in plaintext; the client reads them all', async () => {
    const { taskQueue, markers, result, failure } = await runWithMarkers(true);
    assert.equal(result.key?.recordSecret, `clusters/west/${markers[1]}`, 'the client decodes the result');
    assert.match(failure, new RegExp(markers[2]), 'the client decodes the failure message');
    const all = histories(taskQueue);
    assert.ok(all.length >= 3, `expected both rotations and the cluster lock, found ${all.map((h) => h.workflowId).join(', ')}`);
    for (const { workflowId, text } of all) {
      for (const marker of markers)
        assert.equal(
          text.some((t) => t.includes(marker)),
          false,
          `${workflowId} shows ${marker.split('-')[0]} in plaintext`,
        );
      assert.ok(
        text.some((t) => t.includes('binary/encrypted')),
        `${workflowId} has encrypted payloads`,
      );
    }
  });

  test('without the codec the same values are in plain sight (the search above would see them)', async () => {
    const { taskQueue, markers } = await runWithMarkers(false);
    const all = histories(taskQueue).flatMap((h) => h.text);
    for (const marker of markers)
      assert.ok(
        all.some((t) => t.includes(marker)),
        `${marker.split('-')[0]} not found in the unencrypted history`,
      );
  });
});
