/** What the kubelet would do for Linkerd's control plane on a bare API server (no kubelet runs there). */
import assert from 'node:assert/strict';
import type { TestApiServer } from '../../support/apiserver';

/** What the kubelet would report: a Running, Ready pod per control-plane component of `ns`. */
export async function runControlPlanePods(api: TestApiServer, ns: string): Promise<void> {
  // The namespace's default ServiceAccount, which kube-controller-manager makes and pod admission needs.
  const sa = await api.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  assert.ok([201, 409].includes(sa.status), JSON.stringify(sa.body));
  for (const component of ['identity', 'destination', 'proxy-injector']) {
    const name = `linkerd-${component}-0`;
    const labels = { 'linkerd.io/control-plane-ns': ns, 'linkerd.io/control-plane-component': component };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: component, image: 'lab' }] } };
    const created = await api.request('POST', `/api/v1/namespaces/${ns}/pods`, pod);
    assert.ok([201, 409].includes(created.status), JSON.stringify(created.body));
    const status = {
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: component, ready: true, restartCount: 0, image: 'lab', imageID: '', state: { running: {} } }],
      },
    };
    const res = await api.request('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, status, 'application/merge-patch+json');
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
}
