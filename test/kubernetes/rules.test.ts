import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { KubeApiError, kubeFailure } from '../../activities/kubernetes/errors';
import { KubeconfigCache } from '../../activities/kubernetes/kubeconfig';
import { nodeStatus } from '../../activities/kubernetes/nodes';
import { rolloutState } from '../../activities/kubernetes/rollout';
import { FileSecretStore } from '../../activities/secrets/store';
import { rejectsWith } from './harness';

describe('rollout rules (kubectl rollout status)', () => {
  test('a Deployment with old replicas left is not rolled out; one past its progress deadline has failed', () => {
    const base = { metadata: { generation: 3 }, spec: { replicas: 2 } };
    const pending = rolloutState('Deployment', {
      ...base,
      status: { observedGeneration: 3, replicas: 3, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 },
    });
    assert.equal(pending.done, false);
    assert.equal(pending.message, '1 old replicas are pending termination');
    const stuck = rolloutState('Deployment', {
      ...base,
      status: {
        observedGeneration: 3,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.' }],
      },
    });
    assert.equal(stuck.failed, true);
    assert.match(stuck.message, /exceeded its progress deadline: ReplicaSet "web-1"/);
  });

  test('an old observedGeneration means not rolled out whatever the counts', () => {
    const state = rolloutState('DaemonSet', {
      metadata: { generation: 2 },
      status: { observedGeneration: 1, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberReady: 1, numberAvailable: 1 },
    });
    assert.equal(state.done, false);
    assert.match(state.message, /observe the current spec/);
  });

  test('a StatefulSet waits for its update revision, or only for its partition', () => {
    const status = { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 1, currentReplicas: 2, currentRevision: 'db-1', updateRevision: 'db-2' };
    const rolling = rolloutState('StatefulSet', { metadata: { generation: 1 }, spec: { replicas: 3 }, status });
    assert.equal(rolling.done, false);
    assert.equal(rolling.message, 'waiting for rolling update to complete 1 pods at revision db-2');
    const partitioned = rolloutState('StatefulSet', {
      metadata: { generation: 1 },
      spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
      status,
    });
    assert.equal(partitioned.done, true);
  });

  test('an OnDelete DaemonSet is done once its pods are available, updated or not', () => {
    const state = rolloutState('DaemonSet', {
      metadata: { generation: 1 },
      spec: { updateStrategy: { type: 'OnDelete' } },
      status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 0, numberReady: 2, numberAvailable: 2 },
    });
    assert.equal(state.done, true);
  });
});

describe('node status', () => {
  test('a node without a Ready condition is not ready, with a reason', () => {
    assert.deepEqual(nodeStatus({ metadata: { name: 'n1', labels: {} }, status: {} }), {
      name: 'n1',
      ready: false,
      controlPlane: false,
      reason: 'NoReadyCondition',
    });
  });
});

describe('kubeconfig loading', () => {
  test('unusable kubeconfigs fail as SecretMissing without quoting their content', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-kubeconfig-'));
    try {
      const secrets = new FileSecretStore(dir);
      const cache = new KubeconfigCache(secrets);
      const execUser = [
        'apiVersion: v1',
        'kind: Config',
        'current-context: c',
        'contexts: [{name: c, context: {cluster: k, user: u}}]',
        'clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443"}}]',
        'users: [{name: u, user: {exec: {command: aws-iam-authenticator}, token: s3cr3t-value}}]',
      ].join('\n');
      await secrets.put('k/exec', execUser);
      const failure = await rejectsWith(cache.load('k/exec'), { type: 'SecretMissing', retryable: false, message: /exec or auth-provider plugin/ });
      assert.doesNotMatch(failure.message, /s3cr3t/);
      await secrets.put('k/nocontext', 'apiVersion: v1\nkind: Config\ncurrent-context: gone\n');
      await rejectsWith(cache.load('k/nocontext'), { type: 'SecretMissing', retryable: false, message: /current-context "gone" is not among its contexts/ });
      await secrets.put('k/garbage', 'password: [hunter2');
      const garbage = await rejectsWith(cache.load('k/garbage'), { type: 'SecretMissing', retryable: false, message: /not valid YAML/ });
      assert.doesNotMatch(garbage.message, /hunter2/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('API refusals (kubeFailure)', () => {
  const forbidden = { kind: 'Status', status: 'Failure', reason: 'Forbidden', message: 'forbidden: User "kubernetes-admin" cannot get path "/apis"' };

  test('a 403 from a server that is (re)starting is retryable NotReady; from a ready server it is final', () => {
    const starting = kubeFailure(new KubeApiError(403, forbidden, true), 'read the split', 'https://api:6443');
    assert.ok(starting instanceof ApplicationFailure);
    assert.equal(starting.type, 'NotReady');
    assert.equal(starting.nonRetryable, false);
    assert.match(starting.message, /not ready yet/);
    const ready = kubeFailure(new KubeApiError(403, forbidden), 'read the split', 'https://api:6443');
    assert.ok(ready instanceof ApplicationFailure);
    assert.equal(ready.type, 'CloudRejected');
    assert.equal(ready.nonRetryable, true);
  });
});
