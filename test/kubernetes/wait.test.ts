import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { WorkloadRef } from '../../activities/types';
import { markRolledOut, registerNode, setNodeReady, setWorkloadStatus } from '../support/apiserver';
import { ADMIN_SECRET, type Harness, rejectsWith, startHarness } from './harness';

const WORKLOADS = `
apiVersion: v1
kind: Namespace
metadata:
  name: kubeha-wait
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: kubeha-wait
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: registry.invalid/web:1
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: kubeha-wait
spec:
  selector:
    matchLabels: { app: agent }
  template:
    metadata:
      labels: { app: agent }
    spec:
      containers:
        - name: agent
          image: registry.invalid/agent:1
`;

describe('waits and node status against a real kube-apiserver', () => {
  let h: Harness;
  let workloads: WorkloadRef[];
  before(async () => {
    h = await startHarness();
    ({ workloads } = await h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { inline: WORKLOADS } }));
  });
  after(async () => {
    await h?.stop();
  });

  test('waitRollout times out naming every workload and its counts while no controller has reported', async () => {
    const started = Date.now();
    const failure = await rejectsWith(h.activities.waitRollout({ kubeconfigSecret: ADMIN_SECRET, workloads, timeoutSeconds: 1 }), {
      type: 'DeadlineExceeded',
      retryable: false,
      message:
        /rollout not finished after 1 s: Deployment kubeha-wait\/web: waiting for the controller to observe .*\(desired 2, .*\); DaemonSet kubeha-wait\/agent: waiting/,
    });
    assert.ok(Date.now() - started >= 1000, 'waited the whole timeout');
    assert.ok(Date.now() - started < 5000, 'did not wait much longer than the timeout');
    assert.match(JSON.stringify(failure.details), /kubectl describe/);
  });

  test('waitRollout reports the counts still short, then succeeds once every workload is rolled out', async () => {
    const web = workloads.find((w) => w.kind === 'Deployment')!;
    const agent = workloads.find((w) => w.kind === 'DaemonSet')!;
    await setWorkloadStatus(h.api, web, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 });
    await markRolledOut(h.api, agent, 3);
    await rejectsWith(h.activities.waitRollout({ kubeconfigSecret: ADMIN_SECRET, workloads, timeoutSeconds: 1 }), {
      type: 'DeadlineExceeded',
      retryable: false,
      // Only the Deployment is still waited for, with kubectl's wording.
      message: /after 1 s: Deployment kubeha-wait\/web: 1 of 2 updated replicas are available \(desired 2, replicas 2, updated 2, ready 1, available 1\)$/,
    });
    // The controller catches up while the activity waits.
    const waiting = h.activities.waitRollout({ kubeconfigSecret: ADMIN_SECRET, workloads, timeoutSeconds: 20 });
    await sleep(400);
    await markRolledOut(h.api, web);
    await waiting;
  });

  test('waitRollout keeps waiting for a workload that does not exist yet', async () => {
    const missing: WorkloadRef = { kind: 'StatefulSet', namespace: 'kubeha-wait', name: 'db' };
    await rejectsWith(h.activities.waitRollout({ kubeconfigSecret: ADMIN_SECRET, workloads: [missing], timeoutSeconds: 1 }), {
      type: 'DeadlineExceeded',
      retryable: false,
      message: /StatefulSet kubeha-wait\/db: not found/,
    });
  });

  test('waitNodeReady waits through NotFound and NotReady until the kubelet reports Ready', async () => {
    const waiting = h.activities.waitNodeReady({ kubeconfigSecret: ADMIN_SECRET, nodeName: 'cp-1', timeoutSeconds: 20 });
    await sleep(300);
    await registerNode(h.api, 'cp-1', { ready: false, controlPlane: true });
    await sleep(300);
    await setNodeReady(h.api, 'cp-1', true, { kubeletVersion: 'v1.37.2' });
    assert.deepEqual(await waiting, { name: 'cp-1', ready: true, controlPlane: true, kubeletVersion: 'v1.37.2' });
  });

  test('waitNodeReady times out with the NotReady reason', async () => {
    await registerNode(h.api, 'worker-1', { ready: false, reason: 'NetworkPluginNotReady' });
    await rejectsWith(h.activities.waitNodeReady({ kubeconfigSecret: ADMIN_SECRET, nodeName: 'worker-1', timeoutSeconds: 1 }), {
      type: 'DeadlineExceeded',
      retryable: false,
      message: /node worker-1 not Ready \(NetworkPluginNotReady\) after 1 s/,
    });
    await rejectsWith(h.activities.waitNodeReady({ kubeconfigSecret: ADMIN_SECRET, nodeName: 'never', timeoutSeconds: 1 }), {
      type: 'DeadlineExceeded',
      retryable: false,
      message: /node never not registered after 1 s/,
    });
  });

  test('inside an activity, waits heartbeat their progress and stop at once when cancelled', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const waiting = env.run(h.activities.waitNodeReady, { kubeconfigSecret: ADMIN_SECRET, nodeName: 'worker-1', timeoutSeconds: 60 });
    await sleep(500);
    const cancelledAt = Date.now();
    env.cancel();
    await assert.rejects(waiting, (err) => err instanceof CancelledFailure);
    assert.ok(Date.now() - cancelledAt < 2000, 'the wait ended soon after the cancellation');
    assert.ok(beats.length >= 2, `heartbeats: ${beats.length}`);
    assert.deepEqual((beats.at(-1) as { progress: string }).progress, 'not Ready (NetworkPluginNotReady)');
  });

  test('listNodes reports every node, its readiness and role', async () => {
    const nodes = await h.activities.listNodes({ kubeconfigSecret: ADMIN_SECRET });
    assert.deepEqual(nodes, [
      { name: 'cp-1', ready: true, controlPlane: true, kubeletVersion: 'v1.37.2' },
      { name: 'worker-1', ready: false, controlPlane: false, kubeletVersion: 'v1.37.2', reason: 'NetworkPluginNotReady' },
    ]);
  });

  test('apiReady answers 200 through the kubeconfig server', async () => {
    assert.deepEqual(await h.activities.apiReady({ kubeconfigSecret: ADMIN_SECRET }), { ok: true, status: 200, body: 'ok' });
  });

  // Last: stops the API server.
  test('once the API server is gone, every call fails as retryable Unreachable', async () => {
    await h.api.stop();
    await rejectsWith(h.activities.apiReady({ kubeconfigSecret: ADMIN_SECRET }), { type: 'Unreachable', retryable: true, message: /ECONNREFUSED/ });
    await rejectsWith(h.activities.listNodes({ kubeconfigSecret: ADMIN_SECRET }), { type: 'Unreachable', retryable: true });
    await rejectsWith(h.activities.waitRollout({ kubeconfigSecret: ADMIN_SECRET, workloads, timeoutSeconds: 30 }), {
      type: 'Unreachable',
      retryable: true,
    });
  });
});
