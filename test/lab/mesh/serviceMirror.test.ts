/**
 * The lab service mirror (lab/mesh/mirror) against two real kube-apiservers, west and east: the lab
 * linkerd renders `multicluster install` for both and `multicluster link-gen` from east, kubeha's
 * server-side apply puts them in place, and the passes are held to what Linkerd's controller does:
 * `<svc>-east` on west with the mirror labels, annotations and ports, Endpoints at the gateway's
 * address and port, updates, removals, a missing namespace, gateway hostnames, and no write when
 * nothing changed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { applyObjects } from '../../../activities/kubernetes/apply';
import { KubeClient as KubehaClient } from '../../../activities/kubernetes/client';
import { parseKubeconfig as parseKubehaKubeconfig } from '../../../activities/kubernetes/kubeconfig';
import { parseManifest } from '../../../activities/kubernetes/manifest';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { runServiceMirror } from '../../../lab/mesh/mirror/run';
import { selects } from '../../../lab/mesh/mirror/selector';
import { type SyncMirrorsOptions, syncMirrors } from '../../../lab/mesh/mirror/sync';
import { projectRoot } from '../../../lib/paths';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver';

const run = promisify(execFile);
const LAB_LINKERD = path.join(projectRoot, 'lab', 'tools', 'bin', 'linkerd');
const MC = 'linkerd-multicluster';
const GATEWAY_IP = '10.20.2.200';
const LINK_PATH = `/apis/multicluster.linkerd.io/v1alpha3/namespaces/${MC}/links/east`;
const merge = 'application/merge-patch+json';

let west: TestApiServer;
let east: TestApiServer;
let local: KubeClient;

type Meta = { name: string; namespace?: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
type Svc = { metadata: Meta; spec: { ports: Array<Record<string, unknown>> } };
type Eps = { metadata: Meta; subsets?: Array<{ addresses?: Array<{ ip: string }>; ports?: Array<Record<string, unknown>> }> };
type Link = {
  metadata: Meta;
  status?: { mirrorServices?: Array<{ remoteRef: { name: string; namespace: string }; conditions: Array<Record<string, unknown>> }> };
};

/** Runs the lab CLI and answers its stdout; a non-zero exit fails the test with its stderr. */
async function linkerd(...args: string[]): Promise<string> {
  const { stdout } = await run(LAB_LINKERD, args, { maxBuffer: 16 << 20 });
  return stdout;
}

/** Applies rendered YAML to `api` with kubeha's server-side apply. */
async function apply(api: TestApiServer, text: string, origin: string): Promise<void> {
  const client = new KubehaClient(parseKubehaKubeconfig(api.kubeconfig), { requestTimeoutMs: 15_000 });
  await applyObjects(client, parseManifest(text, origin), { fieldManager: 'test', dryRun: false, crdTimeoutMs: 30_000, pollIntervalMs: 200 });
}

/** A request that must answer 2xx (or 409 on create when `exists` is fine). */
async function must<T = unknown>(api: TestApiServer, method: string, apiPath: string, body?: unknown, contentType?: string): Promise<T> {
  const res = await api.request<T>(method, apiPath, body, contentType);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${apiPath}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const namespace = (api: TestApiServer, name: string) => must(api, 'POST', '/api/v1/namespaces', { metadata: { name } });
const get = <T>(api: TestApiServer, apiPath: string) => must<T>(api, 'GET', apiPath);
const absent = async (api: TestApiServer, apiPath: string) => assert.equal((await api.request('GET', apiPath)).status, 404, `${apiPath} should not exist`);

/** An exported (or not) Service on east with a ready endpoint, as east's endpoints controller would write it. */
async function exportService(ns: string, name: string, ports: Array<Record<string, unknown>>, exported = true): Promise<void> {
  const labels: Record<string, string> = { app: name, ...(exported ? { 'mirror.linkerd.io/exported': 'true' } : {}) };
  await must(east, 'POST', `/api/v1/namespaces/${ns}/services`, {
    metadata: { name, labels, annotations: { 'example.com/owner': 'team-a', 'service.kubernetes.io/topology-mode': 'Auto' } },
    spec: { ports, selector: { app: name } },
  });
  await must(east, 'POST', `/api/v1/namespaces/${ns}/endpoints`, {
    metadata: { name },
    subsets: [{ addresses: [{ ip: '10.244.1.7' }], ports: ports.map((p) => ({ name: p.name, port: p.port })) }],
  });
}

const pass = (options: Partial<SyncMirrorsOptions> = {}) => syncMirrors({ local, ...options });
const status = async (name: string, ns: string) =>
  (await get<Link>(west, LINK_PATH)).status?.mirrorServices?.find((s) => s.remoteRef.name === name && s.remoteRef.namespace === ns);

before(async () => {
  [west, east] = await Promise.all([startTestApiServer(), startTestApiServer()]);
  local = new KubeClient(parseKubeconfig(west.kubeconfig));
  // `linkerd multicluster install` on both; west's runs a controller for the Link to east.
  await apply(east, await linkerd('multicluster', 'install'), 'multicluster install (east)');
  await apply(west, await linkerd('multicluster', 'install', '--set', 'controllers[0].link.ref.name=east'), 'multicluster install (west)');
  // The control plane's config as `linkerd install` leaves it (link-gen reads the cluster domain there).
  for (const api of [west, east]) await namespace(api, 'linkerd');
  await must(east, 'POST', '/api/v1/namespaces/linkerd/configmaps', {
    metadata: { name: 'linkerd-config' },
    data: { values: 'clusterDomain: cluster.local\nidentityTrustDomain: cluster.local\n' },
  });
  // What east's cloud controller and token controller would do.
  await must(east, 'PATCH', `/api/v1/namespaces/${MC}/services/linkerd-gateway/status`, { status: { loadBalancer: { ingress: [{ ip: GATEWAY_IP }] } } }, merge);
  const token = await must<{ status: { token: string } }>(
    east,
    'POST',
    `/api/v1/namespaces/${MC}/serviceaccounts/linkerd-service-mirror-remote-access-default/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    },
  );
  await must(
    east,
    'PATCH',
    `/api/v1/namespaces/${MC}/secrets/linkerd-service-mirror-remote-access-default-token`,
    { data: { token: Buffer.from(token.status.token).toString('base64') } },
    merge,
  );
  await apply(west, await linkerd('--kubeconfig', east.kubeconfigPath, 'multicluster', 'link-gen', '--cluster-name', 'east'), 'link-gen');
  for (const api of [west, east]) await namespace(api, 'podinfo');
});
after(async () => {
  await Promise.all([west?.stop(), east?.stop()]);
});

describe('label selectors as the service mirror applies them', () => {
  test('matchLabels and expressions select; an empty selector selects nothing', () => {
    const labels = { 'mirror.linkerd.io/exported': 'true', tier: 'web' };
    assert.equal(selects({ matchLabels: { 'mirror.linkerd.io/exported': 'true' } }, labels), true);
    assert.equal(selects({ matchLabels: { 'mirror.linkerd.io/exported': 'true' } }, { tier: 'web' }), false);
    assert.equal(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels), true);
    assert.equal(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels), false);
    assert.equal(selects({ matchExpressions: [{ key: 'gone', operator: 'DoesNotExist' }] }, labels), true);
    assert.equal(selects({}, labels), false);
    assert.equal(selects(undefined, labels), false);
  });
});

describe('lab service mirror against two API servers', { timeout: 120_000 }, () => {
  test('an exported Service on east is mirrored on west as <svc>-east, its Endpoints at the gateway', async () => {
    await exportService('podinfo', 'podinfo', [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }]);
    await exportService('podinfo', 'internal', [{ name: 'http', port: 80 }], false);
    const report = await pass();
    assert.deepEqual(report.failed, []);
    assert.deepEqual(
      report.links.map((l) => [l.link, l.targetCluster, l.gateway]),
      [['east', 'east', [GATEWAY_IP]]],
    );

    const remote = await get<Svc>(east, '/api/v1/namespaces/podinfo/services/podinfo');
    const mirror = await get<Svc>(west, '/api/v1/namespaces/podinfo/services/podinfo-east');
    assert.deepEqual(mirror.metadata.labels, { app: 'podinfo', 'mirror.linkerd.io/mirrored-service': 'true', 'mirror.linkerd.io/cluster-name': 'east' });
    assert.deepEqual(mirror.metadata.annotations, {
      'example.com/owner': 'team-a',
      'mirror.linkerd.io/remote-svc-fq-name': 'podinfo.podinfo.svc.cluster.local',
      'mirror.linkerd.io/remote-resource-version': remote.metadata.resourceVersion,
    });
    assert.deepEqual(mirror.spec.ports, [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }]);

    const eps = await get<Eps>(west, '/api/v1/namespaces/podinfo/endpoints/podinfo-east');
    assert.deepEqual(eps.subsets, [{ addresses: [{ ip: GATEWAY_IP }], ports: [{ name: 'http', port: 4143, protocol: 'TCP' }] }]);
    assert.equal(eps.metadata.labels?.['mirror.linkerd.io/cluster-name'], 'east');
    assert.equal(
      eps.metadata.annotations?.['mirror.linkerd.io/remote-gateway-identity'],
      'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
    );
    await absent(west, '/api/v1/namespaces/podinfo/services/internal-east');

    const probe = await get<Eps>(west, `/api/v1/namespaces/${MC}/endpoints/probe-east`);
    assert.deepEqual(probe.subsets, [{ addresses: [{ ip: GATEWAY_IP }], ports: [{ name: 'mc-probe', port: 4191, protocol: 'TCP' }] }]);
    const entry = await status('podinfo', 'podinfo');
    assert.equal(entry?.conditions.length, 1);
    assert.deepEqual(
      { ...entry?.conditions[0], lastTransitionTime: undefined },
      {
        type: 'Mirrored',
        status: 'True',
        reason: 'Mirrored',
        message: '',
        lastTransitionTime: undefined,
        localRef: { name: 'podinfo-east', namespace: 'podinfo', kind: 'Service', group: '' },
      },
    );
  });

  test('a second pass writes nothing', async () => {
    const versions = async () =>
      Promise.all(
        [
          '/api/v1/namespaces/podinfo/services/podinfo-east',
          '/api/v1/namespaces/podinfo/endpoints/podinfo-east',
          LINK_PATH,
          `/api/v1/namespaces/${MC}/endpoints/probe-east`,
        ].map(async (p) => (await get<{ metadata: Meta }>(west, p)).metadata.resourceVersion),
      );
    const before = await versions();
    const report = await pass();
    assert.deepEqual(report.writes, []);
    assert.deepEqual(await versions(), before);
  });

  test('a change of the remote ports updates the mirror and its Endpoints', async () => {
    const ports = [
      { name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' },
      { name: 'grpc', port: 9999, targetPort: 9999, protocol: 'TCP' },
    ];
    await must(east, 'PATCH', '/api/v1/namespaces/podinfo/services/podinfo', { spec: { ports } }, merge);
    const report = await pass();
    assert.deepEqual(
      report.writes.map((w) => `${w.verb} ${w.kind} ${w.name}`),
      ['update Service podinfo-east', 'update Endpoints podinfo-east'],
    );
    const mirror = await get<Svc>(west, '/api/v1/namespaces/podinfo/services/podinfo-east');
    assert.deepEqual(mirror.spec.ports, ports);
    const remote = await get<Svc>(east, '/api/v1/namespaces/podinfo/services/podinfo');
    assert.equal(mirror.metadata.annotations?.['mirror.linkerd.io/remote-resource-version'], remote.metadata.resourceVersion);
    const eps = await get<Eps>(west, '/api/v1/namespaces/podinfo/endpoints/podinfo-east');
    assert.deepEqual(eps.subsets?.[0].ports, [
      { name: 'http', port: 4143, protocol: 'TCP' },
      { name: 'grpc', port: 4143, protocol: 'TCP' },
    ]);
  });

  test('a remote Service without a ready endpoint leaves the mirror without addresses', async () => {
    await must(east, 'PUT', '/api/v1/namespaces/podinfo/endpoints/podinfo', { metadata: { name: 'podinfo', namespace: 'podinfo' }, subsets: [] });
    await pass();
    assert.equal((await get<Eps>(west, '/api/v1/namespaces/podinfo/endpoints/podinfo-east')).subsets, undefined);
    await must(east, 'PUT', '/api/v1/namespaces/podinfo/endpoints/podinfo', {
      metadata: { name: 'podinfo', namespace: 'podinfo' },
      subsets: [{ addresses: [{ ip: '10.244.1.7' }], ports: [{ name: 'http', port: 9898 }] }],
    });
    await pass();
    assert.deepEqual((await get<Eps>(west, '/api/v1/namespaces/podinfo/endpoints/podinfo-east')).subsets?.[0].addresses, [{ ip: GATEWAY_IP }]);
  });

  test('a gateway hostname resolves to each of its addresses, sorted; an unresolvable one changes nothing', async () => {
    await must(west, 'PATCH', LINK_PATH, { spec: { gatewayAddress: 'gateway.east.example' } }, merge);
    try {
      const hosts: Record<string, string[]> = { 'gateway.east.example': ['10.20.2.202', '10.20.2.201'] };
      const resolve = async (host: string) => {
        if (!hosts[host]) throw new Error(`lookup ${host}: no such host`);
        return hosts[host];
      };
      assert.deepEqual((await pass({ resolve })).failed, []);
      const eps = await get<Eps>(west, '/api/v1/namespaces/podinfo/endpoints/podinfo-east');
      assert.deepEqual(eps.subsets?.[0].addresses, [{ ip: '10.20.2.201' }, { ip: '10.20.2.202' }]);
      delete hosts['gateway.east.example'];
      const failed = await pass({ resolve });
      assert.deepEqual(failed.writes, []);
      assert.match(failed.failed[0]?.error ?? '', /Error resolving 'gateway\.east\.example'/);
    } finally {
      await must(west, 'PATCH', LINK_PATH, { spec: { gatewayAddress: GATEWAY_IP } }, merge);
    }
    await pass();
    assert.deepEqual((await get<Eps>(west, '/api/v1/namespaces/podinfo/endpoints/podinfo-east')).subsets?.[0].addresses, [{ ip: GATEWAY_IP }]);
  });

  test('a Service whose namespace is missing on west is skipped with MissingNamespace, then mirrored once it exists', async () => {
    await namespace(east, 'shop');
    await exportService('shop', 'cart', [{ name: 'http', port: 8080 }]);
    await pass();
    await absent(west, '/api/v1/namespaces/shop');
    await absent(west, '/api/v1/namespaces/shop/services/cart-east');
    const skipped = await status('cart', 'shop');
    assert.deepEqual(
      [skipped?.conditions[0].status, skipped?.conditions[0].reason, skipped?.conditions[0].message],
      ['False', 'MissingNamespace', 'Namespace does not exist'],
    );
    await namespace(west, 'shop');
    await pass();
    assert.equal((await get<Svc>(west, '/api/v1/namespaces/shop/services/cart-east')).metadata.labels?.['mirror.linkerd.io/cluster-name'], 'east');
    assert.equal((await status('cart', 'shop'))?.conditions[0].reason, 'Mirrored');
  });

  test('un-exporting a Service removes its mirror; deleting one removes its mirror too', async () => {
    await must(east, 'PATCH', '/api/v1/namespaces/podinfo/services/podinfo', { metadata: { labels: { 'mirror.linkerd.io/exported': 'false' } } }, merge);
    await must(east, 'DELETE', '/api/v1/namespaces/shop/services/cart');
    const report = await pass();
    assert.deepEqual(report.writes.map((w) => `${w.verb} ${w.kind} ${w.namespace}/${w.name}`).sort(), [
      'delete Endpoints podinfo/podinfo-east',
      'delete Endpoints shop/cart-east',
      'delete Service podinfo/podinfo-east',
      'delete Service shop/cart-east',
      'status Link linkerd-multicluster/east',
    ]);
    for (const p of ['podinfo/services/podinfo-east', 'podinfo/endpoints/podinfo-east', 'shop/services/cart-east', 'shop/endpoints/cart-east'])
      await absent(west, `/api/v1/namespaces/${p}`);
    assert.deepEqual((await get<Link>(west, LINK_PATH)).status?.mirrorServices, []);
  });

  test('runServiceMirror keeps mirrors in step until stopped', async () => {
    const mirror = runServiceMirror({ localKubeconfig: west.kubeconfig, intervalMs: 100 });
    try {
      await mirror.nextPass();
      await exportService('podinfo', 'frontend', [{ name: 'http', port: 8080 }]);
      let report = await mirror.nextPass();
      for (let i = 0; i < 20 && !report.writes.some((w) => w.name === 'frontend-east'); i++) report = await mirror.nextPass();
      assert.ok((await get<Svc>(west, '/api/v1/namespaces/podinfo/services/frontend-east')).metadata.name);
    } finally {
      const stopped = await Promise.race([mirror.stop().then(() => true), new Promise((r) => setTimeout(r, 5000, false))]);
      assert.equal(stopped, true, 'stop() ends the loop');
    }
    // Stopped: a Service exported now is not mirrored.
    await exportService('podinfo', 'late', [{ name: 'http', port: 8080 }]);
    await new Promise((r) => setTimeout(r, 300));
    await absent(west, '/api/v1/namespaces/podinfo/services/late-east');
  });
});
