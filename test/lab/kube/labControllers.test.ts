/**
 * The lab controller's endpoints and service account token controllers (lab/kube/kubelet/endpoints.ts,
 * serviceAccountTokens.ts) against a real kube-apiserver: Endpoints follow the pods a Service selects
 * and their readiness, a second pass writes nothing, and a token Secret gets a token the API server
 * accepts for its account, bound to the Secret (deleting the Secret revokes it).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../../lab/kube/client';
import { endpointSubsets, syncEndpoints } from '../../../lab/kube/kubelet/endpoints';
import { fillServiceAccountTokens } from '../../../lab/kube/kubelet/serviceAccountTokens';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver';

let api: TestApiServer;
let client: KubeClient;
const NS = 'shop';

async function must<T = unknown>(method: string, apiPath: string, body?: unknown, contentType?: string): Promise<T> {
  const res = await api.request<T>(method, apiPath, body, contentType);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${apiPath}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A pod as the lab kubelet would report it: Running, with an address, Ready or not. */
async function pod(name: string, labels: Record<string, string>, ip: string, ready: boolean): Promise<void> {
  await must('POST', `/api/v1/namespaces/${NS}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'lab', ports: [{ name: 'http', containerPort: 9898 }] }] },
  });
  await must(
    'PATCH',
    `/api/v1/namespaces/${NS}/pods/${name}/status`,
    {
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    },
    'application/merge-patch+json',
  );
}

type Eps = {
  metadata: { resourceVersion: string };
  subsets?: Array<{ addresses?: Array<{ ip: string }>; notReadyAddresses?: Array<{ ip: string }>; ports: Array<{ name?: string; port: number }> }>;
};

describe('lab controller: endpoints and service account tokens', { timeout: 180_000 }, () => {
  before(async () => {
    api = await startTestApiServer();
    client = new KubeClient(parseKubeconfig(api.kubeconfig), 10_000);
    await must('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await must('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  });
  after(() => api?.stop());

  test('a selector Service gets Endpoints of the pods it selects, ready and not ready apart, its named port resolved', async () => {
    await must('POST', `/api/v1/namespaces/${NS}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'podinfo', namespace: NS, labels: { app: 'podinfo' } },
      spec: { selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await must('POST', `/api/v1/namespaces/${NS}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'external', namespace: NS },
      spec: { ports: [{ port: 80 }] },
    });
    await pod('podinfo-a', { app: 'podinfo' }, '10.244.1.5', true);
    await pod('podinfo-b', { app: 'podinfo' }, '10.244.1.6', false);
    await pod('other', { app: 'other' }, '10.244.1.7', true);
    const written = await syncEndpoints(client);
    assert.deepEqual(written, [`${NS}/podinfo`], 'only the selector Service');
    const eps = await must<Eps>('GET', `/api/v1/namespaces/${NS}/endpoints/podinfo`);
    assert.deepEqual(
      eps.subsets?.[0].addresses?.map((a) => a.ip),
      ['10.244.1.5'],
    );
    assert.deepEqual(
      eps.subsets?.[0].notReadyAddresses?.map((a) => a.ip),
      ['10.244.1.6'],
    );
    assert.deepEqual(eps.subsets?.[0].ports, [{ name: 'http', port: 9898, protocol: 'TCP' }]);
    assert.equal((await api.request('GET', `/api/v1/namespaces/${NS}/endpoints/external`)).status, 404, 'a Service without selector is left alone');

    // Nothing changed: nothing written.
    assert.deepEqual(await syncEndpoints(client), []);
    assert.equal((await must<Eps>('GET', `/api/v1/namespaces/${NS}/endpoints/podinfo`)).metadata.resourceVersion, eps.metadata.resourceVersion);

    // The second pod turns Ready; then every pod goes: the Endpoints follow.
    await must(
      'PATCH',
      `/api/v1/namespaces/${NS}/pods/podinfo-b/status`,
      { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      'application/strategic-merge-patch+json',
    );
    await syncEndpoints(client);
    assert.deepEqual(
      (await must<Eps>('GET', `/api/v1/namespaces/${NS}/endpoints/podinfo`)).subsets?.[0].addresses?.map((a) => a.ip),
      ['10.244.1.5', '10.244.1.6'],
    );
    for (const name of ['podinfo-a', 'podinfo-b']) await must('DELETE', `/api/v1/namespaces/${NS}/pods/${name}?gracePeriodSeconds=0`);
    await syncEndpoints(client);
    assert.equal((await must<Eps>('GET', `/api/v1/namespaces/${NS}/endpoints/podinfo`)).subsets, undefined);
  });

  test('loopback pod addresses (host network on the lab hosts) are left out, as the API refuses them', () => {
    const service = { metadata: { name: 's', namespace: NS }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } };
    const at = (ip: string) => ({
      metadata: { name: ip, namespace: NS, labels: { app: 'x' } },
      status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const subsets = endpointSubsets(service, [at('127.0.11.105'), at('10.244.0.9')]);
    assert.deepEqual(
      (subsets[0].addresses as Array<{ ip: string }>).map((a) => a.ip),
      ['10.244.0.9'],
    );
    assert.deepEqual(endpointSubsets(service, [at('127.0.11.105')]), []);
  });

  test("a token Secret gets its account's token, which the API server accepts, bound to the Secret", async () => {
    await must('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'remote-access' } });
    await must('POST', `/api/v1/namespaces/${NS}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: 'remote-access-token', namespace: NS, annotations: { 'kubernetes.io/service-account.name': 'remote-access' } },
    });
    // A token Secret whose account does not exist yet is skipped, not failed.
    await must('POST', `/api/v1/namespaces/${NS}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: 'later-token', namespace: NS, annotations: { 'kubernetes.io/service-account.name': 'later' } },
    });
    const caFile = path.join(api.dir, 'ca.crt');
    assert.deepEqual(await fillServiceAccountTokens(client, caFile), [`${NS}/remote-access-token`]);
    assert.deepEqual(await fillServiceAccountTokens(client, caFile), [], 'a filled Secret is left as it is');
    const secret = await must<{ data: Record<string, string> }>('GET', `/api/v1/namespaces/${NS}/secrets/remote-access-token`);
    const token = Buffer.from(secret.data.token, 'base64').toString();
    assert.equal(Buffer.from(secret.data.namespace, 'base64').toString(), NS);
    assert.match(Buffer.from(secret.data['ca.crt'], 'base64').toString(), /BEGIN CERTIFICATE/);

    const asAccount = new KubeClient(parseKubeconfig(api.kubeconfigWithUser({ token })), 10_000);
    const review = await asAccount.create<{ status: { userInfo: { username: string } } }>('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    assert.equal(review.status.userInfo.username, `system:serviceaccount:${NS}:remote-access`);

    await must('DELETE', `/api/v1/namespaces/${NS}/secrets/remote-access-token`);
    // The API server caches a token's verdict for a few seconds before it looks at the Secret again.
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (
        await asAccount.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'SelfSubjectReview',
        })
      ).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, 401, 'the token died with its Secret');
  });
});
