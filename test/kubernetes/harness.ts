/**
 * What the Kubernetes tests share: a real API server, a file secret store holding its admin
 * kubeconfig, and the activities built against both with short poll intervals.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createKubernetesActivities } from '../../activities/kubernetes';
import { FileSecretStore } from '../../activities/secrets/store';
import type { KubernetesActivities } from '../../activities/types';
import { startTestApiServer, type TestApiServer, type TestApiServerOptions } from '../support/apiserver';

/** The secret name tests store the admin kubeconfig under. */
export const ADMIN_SECRET = 'clusters/test/admin-kubeconfig';

/** A started API server with activities pointed at it. */
export interface Harness {
  api: TestApiServer;
  secrets: FileSecretStore;
  activities: KubernetesActivities;
  stop(): Promise<void>;
}

/** Starts the API server (with `options`) and builds the activities. Call `stop()` in `after`. */
export async function startHarness(options: TestApiServerOptions = {}): Promise<Harness> {
  const secretsDir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-k8s-secrets-'));
  const secrets = new FileSecretStore(secretsDir);
  let api: TestApiServer | undefined;
  try {
    api = await startTestApiServer(options);
    await secrets.put(ADMIN_SECRET, api.kubeconfig);
  } catch (err) {
    await rm(secretsDir, { recursive: true, force: true });
    throw err;
  }
  const started = api;
  return {
    api: started,
    secrets,
    activities: createKubernetesActivities({ secrets, pollIntervalMs: 100, requestTimeoutMs: 5000, crdTimeoutMs: 30_000 }),
    stop: async () => {
      await started.stop();
      await rm(secretsDir, { recursive: true, force: true });
    },
  };
}

/** Asserts that `promise` rejects with a kubeha failure of `type`, retryable or not, whose message matches. */
export async function rejectsWith(promise: Promise<unknown>, expected: { type: string; retryable: boolean; message?: RegExp }): Promise<ApplicationFailure> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(caught)}`);
  assert.equal(caught.type, expected.type, caught.message);
  assert.equal(caught.nonRetryable, !expected.retryable, `retryable for: ${caught.message}`);
  if (expected.message) assert.match(caught.message, expected.message);
  return caught;
}
