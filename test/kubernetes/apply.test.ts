import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { projectRoot } from '../../lib/paths';
import { ADMIN_SECRET, type Harness, rejectsWith, startHarness } from './harness';

const SAMPLE = `
apiVersion: v1
kind: Namespace
metadata:
  name: kubeha-apply
  # A field kubeha owns: server-side apply records no manager for an empty field set, and the next
  # apply would then write once to record the fields that existed "before-first-apply".
  labels: { team: platform }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: kubeha-apply
data:
  mode: durable
---
# an empty document, as generators leave them
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: agent
  namespace: kubeha-apply
  labels: { app: agent }
---
apiVersion: example.kubeha.io/v1
kind: Widget
metadata:
  name: first
  namespace: kubeha-apply
spec:
  size: 3
  extra:
    anything: goes
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: kubeha-apply
spec:
  selector:
    matchLabels: { app: agent }
  template:
    metadata:
      labels: { app: agent }
    spec:
      serviceAccountName: agent
      containers:
        - name: agent
          image: registry.invalid/agent:1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: kubeha-apply
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
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.kubeha.io
spec:
  group: example.kubeha.io
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer, default: 1 }
                extra:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
`;

/** Every object of SAMPLE, with its API path. */
const SAMPLE_PATHS = [
  '/api/v1/namespaces/kubeha-apply',
  '/api/v1/namespaces/kubeha-apply/configmaps/settings',
  '/api/v1/namespaces/kubeha-apply/serviceaccounts/agent',
  '/apis/example.kubeha.io/v1/namespaces/kubeha-apply/widgets/first',
  '/apis/apps/v1/namespaces/kubeha-apply/daemonsets/agent',
  '/apis/apps/v1/namespaces/kubeha-apply/deployments/web',
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.kubeha.io',
];

interface Meta {
  metadata: { resourceVersion: string; managedFields?: { manager: string; operation: string }[] };
}

describe('applyManifest against a real kube-apiserver', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  test('applies every document (CRD before its custom resource) and reports the workloads', async () => {
    const result = await h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { inline: SAMPLE } });
    assert.equal(result.applied, 7);
    assert.deepEqual(result.workloads, [
      { kind: 'DaemonSet', namespace: 'kubeha-apply', name: 'agent' },
      { kind: 'Deployment', namespace: 'kubeha-apply', name: 'web' },
    ]);
    for (const apiPath of SAMPLE_PATHS) {
      const res = await h.api.request<Meta>('GET', apiPath);
      assert.equal(res.status, 200, `${apiPath}: ${JSON.stringify(res.body)}`);
      const managers = res.body.metadata.managedFields?.map((f) => `${f.manager}/${f.operation}`) ?? [];
      assert.ok(managers.includes('kubeha/Apply'), `${apiPath} managed by ${managers.join(', ')}`);
    }
    const cm = await h.api.request<{ data: Record<string, string> }>('GET', SAMPLE_PATHS[1]);
    assert.deepEqual(cm.body.data, { mode: 'durable' });
    // Fields only the CRD's schema knows survive: preserve-unknown-fields and the default.
    const widget = await h.api.request<{ spec: unknown }>('GET', SAMPLE_PATHS[3]);
    assert.deepEqual(widget.body.spec, { size: 3, extra: { anything: 'goes' } });
  });

  test('applying the same manifest again changes nothing (same resourceVersions)', async () => {
    const before = await Promise.all(SAMPLE_PATHS.map((p) => h.api.request<Meta>('GET', p)));
    const result = await h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { inline: SAMPLE } });
    assert.equal(result.applied, 7);
    const afterApply = await Promise.all(SAMPLE_PATHS.map((p) => h.api.request<Meta>('GET', p)));
    assert.deepEqual(
      afterApply.map((r) => r.body.metadata.resourceVersion),
      before.map((r) => r.body.metadata.resourceVersion),
    );
  });

  test('a changed manifest updates the object in place', async () => {
    const changed = SAMPLE.replace('mode: durable', 'mode: changed');
    await h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { inline: changed } });
    const cm = await h.api.request<{ data: Record<string, string> }>('GET', SAMPLE_PATHS[1]);
    assert.deepEqual(cm.body.data, { mode: 'changed' });
  });

  test('a dry run checks with the server and creates nothing', async () => {
    const manifest = SAMPLE.replaceAll('kubeha-apply', 'kubeha-dry')
      .replaceAll('widgets.example.kubeha.io', 'widgets.dry.kubeha.io')
      .replaceAll('example.kubeha.io', 'dry.kubeha.io')
      .concat('---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubeha-dry-probe\n  namespace: default\ndata: {}\n');
    const result = await h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { inline: manifest }, dryRun: true });
    assert.equal(result.applied, 8);
    assert.equal(result.workloads.length, 2);
    for (const apiPath of [
      '/api/v1/namespaces/kubeha-dry',
      '/api/v1/namespaces/default/configmaps/kubeha-dry-probe',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.dry.kubeha.io',
    ]) {
      assert.equal((await h.api.request('GET', apiPath)).status, 404, `${apiPath} must not exist after a dry run`);
    }
  });

  test('a dry run still fails on what the server rejects', async () => {
    const invalid = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\n  namespace: default\n';
    await rejectsWith(h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { inline: invalid }, dryRun: true }), {
      type: 'InvalidInput',
      retryable: false,
      message: /apply ConfigMap default\/Not_A_Valid_Name \(document 1 \(line 1\)\): HTTP 422/,
    });
  });

  test('a document without kind fails naming it, and nothing of the manifest is applied', async () => {
    const bad = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before-the-bad-one\n  namespace: default\n',
      'apiVersion: v1\nmetadata:\n  name: no-kind\n',
    ].join('---\n');
    await rejectsWith(h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { inline: bad } }), {
      type: 'InvalidInput',
      retryable: false,
      message: /document 2 \(line 7\) \(no-kind\) has no kind/,
    });
    assert.equal((await h.api.request('GET', '/api/v1/namespaces/default/configmaps/before-the-bad-one')).status, 404);
  });

  test('a Calico-like CNI manifest from a file applies with CRD schemas and privileged pods intact', async () => {
    const file = path.join(projectRoot, 'lab', 'cni', 'calico-like.yaml');
    const result = await h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { file } });
    assert.equal(result.applied, 14);
    assert.deepEqual(result.workloads, [
      { kind: 'DaemonSet', namespace: 'kube-system', name: 'calico-node' },
      { kind: 'Deployment', namespace: 'kube-system', name: 'calico-kube-controllers' },
    ]);
    type Crd = { spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, Record<string, unknown>> } } } } }[] } };
    const felix = await h.api.request<Crd>('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/felixconfigurations.crd.projectcalico.org');
    const props = felix.body.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
    assert.equal(props.routeTableRange['x-kubernetes-preserve-unknown-fields'], true);
    assert.equal(props.natPortRange['x-kubernetes-int-or-string'], true);
    const bgp = await h.api.request<Crd>('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgpconfigurations.crd.projectcalico.org');
    const severity = bgp.body.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.logSeverityScreen;
    assert.equal(severity.default, 'Info');
    assert.deepEqual(severity.enum, ['Debug', 'Info', 'Warning', 'Error', 'Fatal']);
    type Ds = { spec: { template: { spec: { hostNetwork: boolean; initContainers: { securityContext: { privileged: boolean } }[] } } } };
    const ds = await h.api.request<Ds>('GET', '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node');
    assert.equal(ds.body.spec.template.spec.hostNetwork, true);
    assert.equal(ds.body.spec.template.spec.initContainers[0].securityContext.privileged, true);
  });

  test('a custom resource whose CRD is neither in the manifest nor on the server is refused', async () => {
    const orphan = 'apiVersion: nowhere.kubeha.io/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: default\n';
    await rejectsWith(h.activities.applyManifest({ kubeconfigSecret: ADMIN_SECRET, source: { inline: orphan } }), {
      type: 'InvalidInput',
      retryable: false,
      message: /apply Gadget default\/g .*nowhere\.kubeha\.io\/v1/,
    });
  });

  test('a user RBAC does not allow gets a non-retryable refusal with a hint', async () => {
    await h.secrets.put('clusters/test/viewer', await h.api.kubeconfigFor('kubeha-test-nobody'));
    const failure = await rejectsWith(h.activities.applyManifest({ kubeconfigSecret: 'clusters/test/viewer', source: { inline: SAMPLE_CONFIGMAP } }), {
      type: 'CloudRejected',
      retryable: false,
      message: /HTTP 403/,
    });
    assert.match(JSON.stringify(failure.details), /RBAC/);
  });

  test('credentials the server rejects fail as AuthenticationFailed; a rotated kubeconfig is picked up', async () => {
    const name = 'clusters/test/rotating';
    await h.secrets.put(name, h.api.kubeconfig);
    assert.equal((await h.activities.applyManifest({ kubeconfigSecret: name, source: { inline: SAMPLE_CONFIGMAP } })).applied, 1);
    const badToken = h.api.kubeconfig.replace(/client-certificate-data: .*\n\s*client-key-data: .*/, 'token: not-a-valid-token');
    assert.notEqual(badToken, h.api.kubeconfig);
    await h.secrets.put(name, badToken);
    await rejectsWith(h.activities.applyManifest({ kubeconfigSecret: name, source: { inline: SAMPLE_CONFIGMAP } }), {
      type: 'AuthenticationFailed',
      retryable: false,
      message: /HTTP 401/,
    });
  });

  test('a server certificate the kubeconfig CA did not sign fails as non-retryable AuthenticationFailed', async () => {
    // The admin client certificate is no CA: nothing it "signs" verifies.
    const clientCert = /client-certificate-data: (\S+)/.exec(h.api.kubeconfig)?.[1];
    assert.ok(clientCert);
    await h.secrets.put('clusters/test/wrong-ca', h.api.kubeconfig.replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${clientCert}`));
    await rejectsWith(h.activities.apiReady({ kubeconfigSecret: 'clusters/test/wrong-ca' }), {
      type: 'AuthenticationFailed',
      retryable: false,
      message: /GET \/readyz: TLS verification of https:\/\/127\.0\.0\.1:\d+ failed/,
    });
  });

  test('a missing kubeconfig secret fails as SecretMissing', async () => {
    await rejectsWith(h.activities.listNodes({ kubeconfigSecret: 'clusters/none/admin-kubeconfig' }), { type: 'SecretMissing', retryable: false });
  });
});

const SAMPLE_CONFIGMAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rbac-probe\n  namespace: default\ndata:\n  a: b\n';
