/**
 * The failover activities against a real kube-apiserver (etcd + kube-apiserver from the build cache):
 * service readiness from EndpointSlices and mirrored Endpoints, TrafficSplit and HTTPRoute weights
 * changed, read back, verified and recorded as Events, and the refusals with their hints.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createFailoverActivities } from '../../activities/failover';
import type { FailoverActivities } from '../../activities/failover/types';
import { FileSecretStore } from '../../activities/secrets/store';
import { startTestApiServer, type TestApiServer } from '../support/apiserver';
import { eventsOn, must, prepareFailoverApi, rejectsWith, SECRET, splitRef } from './failoverApi';

let api: TestApiServer;
let secretsDir: string;
let activities: FailoverActivities;

before(async () => {
  api = await startTestApiServer();
  secretsDir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-failover-secrets-'));
  const secrets = new FileSecretStore(secretsDir);
  await secrets.put(SECRET, api.kubeconfig);
  activities = createFailoverActivities({ secrets, requestTimeoutMs: 5000 });
  await prepareFailoverApi(api);
});

after(async () => {
  await api?.stop();
  if (secretsDir) await rm(secretsDir, { recursive: true, force: true });
});

describe('failover activities against a real API server', { timeout: 240_000 }, () => {
  test('service readiness counts EndpointSlices, falls back to mirrored Endpoints, and says when the Service is missing', async () => {
    const service = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'test' }, spec: { ports: [{ port: 9898 }] } });
    await must(api.request('POST', '/api/v1/namespaces/test/services', service('podinfo')), 'service');
    await must(api.request('POST', '/api/v1/namespaces/test/services', service('podinfo-east')), 'mirror service');
    await must(
      api.request('POST', '/apis/discovery.k8s.io/v1/namespaces/test/endpointslices', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'podinfo-abc', namespace: 'test', labels: { 'kubernetes.io/service-name': 'podinfo' } },
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.1.0.1'], conditions: { ready: true } },
          { addresses: ['10.1.0.2'] },
          { addresses: ['10.1.0.3'], conditions: { ready: false } },
        ],
        ports: [{ port: 9898 }],
      }),
      'slice',
    );
    // Linkerd's service mirror writes the mirror's Endpoints itself: the east gateway's address.
    await must(
      api.request('POST', '/api/v1/namespaces/test/endpoints', {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'podinfo-east', namespace: 'test' },
        subsets: [{ addresses: [{ ip: '172.20.0.10' }], ports: [{ port: 4143 }] }],
      }),
      'mirror endpoints',
    );

    assert.deepEqual(await activities.serviceReadiness({ kubeconfigSecret: SECRET, namespace: 'test', name: 'podinfo' }), {
      service: 'test/podinfo',
      ready: 2,
      notReady: 1,
      source: 'EndpointSlice',
      serviceExists: true,
    });
    assert.deepEqual(await activities.serviceReadiness({ kubeconfigSecret: SECRET, namespace: 'test', name: 'podinfo-east' }), {
      service: 'test/podinfo-east',
      ready: 1,
      notReady: 0,
      source: 'Endpoints',
      serviceExists: true,
    });
    assert.deepEqual(await activities.serviceReadiness({ kubeconfigSecret: SECRET, namespace: 'test', name: 'nope' }), {
      service: 'test/nope',
      ready: 0,
      notReady: 0,
      source: 'none',
      serviceExists: false,
    });
  });

  test('TrafficSplit: 50 then 100 to east, each read back and recorded once as an Event; a repeat changes nothing', async () => {
    await must(
      api.request('POST', '/apis/split.smi-spec.io/v1alpha1/namespaces/test/trafficsplits', {
        apiVersion: 'split.smi-spec.io/v1alpha1',
        kind: 'TrafficSplit',
        metadata: { name: 'podinfo', namespace: 'test' },
        spec: {
          service: 'podinfo',
          backends: [
            { service: 'podinfo', weight: 100 },
            { service: 'podinfo-east', weight: 0 },
          ],
        },
      }),
      'split',
    );
    assert.equal((await activities.readSplit(splitRef())).eastPercent, 0);

    const event = {
      name: 'podinfo.failover-west-to-east.abcd1234.shift-traffic-50',
      reason: 'FailoverShift',
      message: 'podinfo 50 / podinfo-east 50: alert WestDown firing',
    };
    const first = await activities.setSplitWeights({ ...splitRef(), eastPercent: 50, event });
    assert.deepEqual(first, {
      changed: true,
      before: { west: 100, east: 0, eastPercent: 0 },
      after: { west: 50, east: 50, eastPercent: 50 },
      eventRecorded: true,
    });
    const again = await activities.setSplitWeights({ ...splitRef(), eastPercent: 50, event });
    assert.deepEqual(again, {
      changed: false,
      before: { west: 50, east: 50, eastPercent: 50 },
      after: { west: 50, east: 50, eastPercent: 50 },
      eventRecorded: false,
    });
    await activities.setSplitWeights({
      ...splitRef(),
      eastPercent: 100,
      event: { ...event, name: 'podinfo.failover-west-to-east.abcd1234.shift-traffic-100' },
    });

    const stored = await api.request<{ spec: { service: string; backends: unknown[] } }>(
      'GET',
      '/apis/split.smi-spec.io/v1alpha1/namespaces/test/trafficsplits/podinfo',
    );
    assert.deepEqual(stored.body.spec, {
      service: 'podinfo',
      backends: [
        { service: 'podinfo', weight: 0 },
        { service: 'podinfo-east', weight: 100 },
      ],
    });
    const events = await eventsOn(api, 'podinfo');
    assert.equal(events.filter((e) => e.involvedObject.kind === 'TrafficSplit').length, 2);
    assert.ok(events.every((e) => e.reason === 'FailoverShift' && e.involvedObject.uid));
    assert.match(events[0].message, /alert WestDown firing/);
  });

  test('HTTPRoute: weighted backendRefs change in every rule; a missing east ref is added with the west port', async () => {
    await must(
      api.request('POST', '/apis/policy.linkerd.io/v1beta2/namespaces/test/httproutes', {
        apiVersion: 'policy.linkerd.io/v1beta2',
        kind: 'HTTPRoute',
        metadata: { name: 'web', namespace: 'test' },
        spec: {
          parentRefs: [{ name: 'web', kind: 'Service', group: 'core', port: 8080 }],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'web', port: 8080 }] },
            {
              backendRefs: [
                { name: 'web', port: 8080, weight: 90 },
                { name: 'web-east', port: 8080, weight: 10 },
              ],
            },
          ],
        },
      }),
      'route',
    );
    const ref = splitRef({ kind: 'HTTPRoute', apiVersion: 'policy.linkerd.io/v1beta2', name: 'web', westBackend: 'web', eastBackend: 'web-east' });
    await rejectsWith(activities.readSplit(ref), 'Conflict', /its rules split traffic differently/);
    const result = await activities.setSplitWeights({
      ...ref,
      eastPercent: 100,
      event: { name: 'web.x.shift-100', reason: 'FailoverShift', message: 'all to east' },
    });
    assert.equal(result.after.eastPercent, 100);
    const stored = await api.request<{ spec: { rules: Array<{ backendRefs: unknown[]; matches?: unknown }> } }>(
      'GET',
      '/apis/policy.linkerd.io/v1beta2/namespaces/test/httproutes/web',
    );
    assert.deepEqual(stored.body.spec.rules[0].backendRefs, [
      { name: 'web', port: 8080, weight: 0 },
      { name: 'web-east', port: 8080, weight: 100 },
    ]);
    assert.deepEqual(stored.body.spec.rules[1].backendRefs, [
      { name: 'web', port: 8080, weight: 0 },
      { name: 'web-east', port: 8080, weight: 100 },
    ]);
    assert.ok(stored.body.spec.rules[0].matches, 'the rest of the rule is kept');
    assert.equal((await activities.readSplit(ref)).eastPercent, 100);
  });

  test('a read-back that differs from what was written fails with VerificationFailed', async () => {
    await must(
      api.request('POST', '/apis/split.pruning.kubeha.io/v1/namespaces/test/trafficsplits', {
        apiVersion: 'split.pruning.kubeha.io/v1',
        kind: 'TrafficSplit',
        metadata: { name: 'pruned', namespace: 'test' },
        spec: { service: 'pruned', backends: [{ service: 'pruned' }, { service: 'pruned-east' }] },
      }),
      'pruning split',
    );
    const ref = splitRef({ apiVersion: 'split.pruning.kubeha.io/v1', name: 'pruned', westBackend: 'pruned', eastBackend: 'pruned-east' });
    const failure = await rejectsWith(
      activities.setSplitWeights({ ...ref, eastPercent: 50, event: { name: 'pruned.x.50', reason: 'FailoverShift', message: 'm' } }),
      'VerificationFailed',
      /reads back east 0% .*not the 50% just written/,
    );
    assert.equal(failure.nonRetryable, true);
    assert.equal((await eventsOn(api, 'pruned')).length, 0, 'no Event for a change that did not hold');
  });

  test('refusals name what is missing: no split object, a kind west does not serve, a third backend with weight', async () => {
    await rejectsWith(activities.readSplit(splitRef({ name: 'missing' })), 'Conflict', /TrafficSplit test\/missing does not exist in west/);
    await rejectsWith(
      activities.readSplit(splitRef({ apiVersion: 'split.smi-spec.io/v1alpha4' })),
      'Conflict',
      /west does not serve TrafficSplit in split.smi-spec.io\/v1alpha4/,
    );
    await must(
      api.request('POST', '/apis/split.smi-spec.io/v1alpha1/namespaces/test/trafficsplits', {
        apiVersion: 'split.smi-spec.io/v1alpha1',
        kind: 'TrafficSplit',
        metadata: { name: 'three', namespace: 'test' },
        spec: {
          service: 'three',
          backends: [
            { service: 'three', weight: '500m' },
            { service: 'three-east', weight: 0 },
            { service: 'three-canary', weight: '500m' },
          ],
        },
      }),
      'three-way split',
    );
    await rejectsWith(
      activities.setSplitWeights({
        ...splitRef({ name: 'three', westBackend: 'three', eastBackend: 'three-east' }),
        eastPercent: 50,
        event: { name: 'three.x', reason: 'FailoverShift', message: 'm' },
      }),
      'Conflict',
      /also sends traffic to three-canary/,
    );
  });
});
