/**
 * The real kube-apiserver the failover activities are tested against, prepared with namespace test and
 * the split CRDs, and the helpers the tests share (refs, expected failures, Events).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { SplitRef } from '../../activities/failover/types';
import type { TestApiServer } from '../support/apiserver';
import { linkerdHttpRouteCrd, trafficSplitCrd } from '../support/routeCrds';

/** The name west's kubeconfig is stored under. */
export const SECRET = 'clusters/west/admin-kubeconfig';

/** A CRD of one version with the given schema (here: one that drops fields, as a rewriting controller would). */
function crd(group: string, kind: string, plural: string, version: string, schema: Record<string, unknown>) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: schema } }],
    },
  };
}

/** Fails the test unless the API server answered 2xx. */
export async function must(status: Promise<{ status: number; body: unknown }>, what: string): Promise<void> {
  const res = await status;
  assert.ok(res.status >= 200 && res.status < 300, `${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
}

async function served(api: TestApiServer, apiVersion: string, plural: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await api.request<{ resources?: Array<{ name: string }> }>('GET', `/apis/${apiVersion}`);
    if (res.status === 200 && res.body.resources?.some((r) => r.name === plural)) return;
    await sleep(200);
  }
  assert.fail(`${apiVersion} ${plural} not served`);
}

/** West's split of test/podinfo, with the given fields changed. */
export function splitRef(overrides: Partial<SplitRef> = {}): SplitRef {
  return {
    kubeconfigSecret: SECRET,
    kind: 'TrafficSplit',
    apiVersion: 'split.smi-spec.io/v1alpha1',
    namespace: 'test',
    name: 'podinfo',
    westBackend: 'podinfo',
    eastBackend: 'podinfo-east',
    ...overrides,
  };
}

/** Asserts the promise rejects with an ApplicationFailure of this type and message; returns it. */
export async function rejectsWith(promise: Promise<unknown>, type: string, message: RegExp): Promise<ApplicationFailure> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof ApplicationFailure, String(caught));
  assert.equal(caught.type, type, caught.message);
  assert.match(caught.message, message);
  return caught;
}

/** The Events recorded on an object of namespace test. */
export async function eventsOn(
  api: TestApiServer,
  name: string,
): Promise<Array<{ reason: string; message: string; involvedObject: { kind: string; name: string; uid?: string } }>> {
  const res = await api.request<{ items: Array<{ reason: string; message: string; involvedObject: { kind: string; name: string; uid?: string } }> }>(
    'GET',
    '/api/v1/namespaces/test/events',
  );
  return res.body.items.filter((e) => e.involvedObject.name === name);
}

/** Namespace test, and the CRDs the splits live in (the real ones, and one whose schema drops `weight`), served. */
export async function prepareFailoverApi(api: TestApiServer): Promise<void> {
  await must(api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'test' } }), 'namespace');
  // The real APIs' schemas: a field kubeha spells wrong, or a weight of the wrong type, is refused.
  await must(api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', trafficSplitCrd()), 'TrafficSplit CRD');
  await must(api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', linkerdHttpRouteCrd()), 'HTTPRoute CRD');
  // A split whose schema drops `weight`: what a rewriting controller looks like from the outside.
  const pruning = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: { service: { type: 'string' }, backends: { type: 'array', items: { type: 'object', properties: { service: { type: 'string' } } } } },
      },
    },
  };
  await must(
    api.request(
      'POST',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      crd('split.pruning.kubeha.io', 'TrafficSplit', 'trafficsplits', 'v1', pruning),
    ),
    'pruning CRD',
  );
  await served(api, 'split.smi-spec.io/v1alpha1', 'trafficsplits');
  await served(api, 'policy.linkerd.io/v1beta2', 'httproutes');
  await served(api, 'split.pruning.kubeha.io/v1', 'trafficsplits');
}
