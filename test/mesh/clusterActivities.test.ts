/**
 * The mesh activities that need no running Linkerd pods, against a real kube-apiserver: preflight (with
 * the fields it names), kubeha's identity checks on what Linkerd stores, exports and mirror verification
 * with a load balancer that reports a hostname, and the traffic split objects. One API server stands
 * for both clusters: the kubeconfig has a `west` and an `east` context pointing at it (different
 * namespaces keep their objects apart where it matters).
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { createMeshActivities } from '../../activities/mesh';
import { clientFor, resolveClusterAccess } from '../../activities/mesh/clusterAccess';
import { identityChecks } from '../../activities/mesh/clusterState';
import { LinkerdCli } from '../../activities/mesh/linkerdCli';
import { resolveAddresses, systemResolver } from '../../activities/mesh/mirrors';
import { createIssuer, createTrustAnchor, type KeyedCertificate } from '../../activities/mesh/pki';
import type { ClusterAccess, MeshActivities } from '../../activities/mesh/types';
import { FileSecretStore } from '../../activities/secrets/store';
import { startTestApiServer, type TestApiServer } from '../support/apiserver';
import { gatewayHttpRouteCrd } from '../support/routeCrds';
import { rejectsWith } from '../kubernetes/harness';
import {
  adoptedTrustInput,
  clusterInputs,
  linkerdGatewayService,
  mirrorEndpoints,
  podinfoService,
  put,
  writeAdoptedTrust,
  writeTwoContextKubeconfig,
} from './meshApi';

let api: TestApiServer;
let dir: string;
let secrets: FileSecretStore;
let mesh: MeshActivities;
let west: ClusterAccess;
let east: ClusterAccess;
let anchor: KeyedCertificate;
let issuer: KeyedCertificate;
const file = (name: string) => path.join(dir, name);
const b64 = (s: string) => Buffer.from(s).toString('base64');

before(async () => {
  api = await startTestApiServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-mesh-'));
  secrets = new FileSecretStore(path.join(dir, 'secrets'));
  // No linkerd binary: the CLI driver must say so rather than run something else.
  mesh = createMeshActivities({ secrets, cli: new LinkerdCli(secrets, path.join(dir, 'no-linkerd')), pollIntervalMs: 100, requestTimeoutMs: 5000 });
  await writeTwoContextKubeconfig(api, file('kubeconfig'));
  west = await resolveClusterAccess(secrets, 'test', 'west', { name: 'west', kubeconfig: { file: file('kubeconfig') }, context: 'west', set: [] });
  east = await resolveClusterAccess(secrets, 'test', 'east', { name: 'east', kubeconfig: { file: file('kubeconfig') }, context: 'east', set: [] });
  ({ anchor, issuer } = await writeAdoptedTrust(dir));
  for (const ns of ['linkerd', 'linkerd-multicluster', 'test'])
    await put(api, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
});
after(async () => {
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const clusters = () => clusterInputs(file('kubeconfig'));
const adopt = (eastIssuer = 'issuer') => adoptedTrustInput(file, eastIssuer);

describe('mesh activities against a real API server', { timeout: 240_000 }, () => {
  test('the kubeconfig is cut to one context in the secret store; an unknown context names the field', async () => {
    const cut = parse(await secrets.get(east.kubeconfigSecret)) as { contexts: unknown[]; 'current-context': string };
    assert.equal(cut.contexts.length, 1);
    assert.equal(cut['current-context'], 'east');
    const failure = await rejectsWith(
      mesh.preflightMesh({
        pairName: 'test',
        ...clusters(),
        east: { ...clusters().east, context: 'gke-east' },
        trust: { mode: 'generate', anchorValidityHours: 100, issuerValidityHours: 50 },
      }),
      { type: 'InvalidInput', retryable: false, message: /east\.context: context "gke-east" is not in the kubeconfig \(it has: west, east\)/ },
    );
    assert.deepEqual(
      (failure.details?.[0] as { issues: Array<{ path: string }> }).issues.map((i) => i.path),
      ['east.context'],
    );
  });

  test('preflight names an expired issuer and one not signed by the anchor, never quoting key material', async () => {
    const past = new Date(Date.now() - 400 * 24 * 3600_000);
    const expired = await createIssuer(anchor, 24, past);
    await writeFile(file('expired.crt'), expired.certificatePem);
    await writeFile(file('expired.key'), expired.keyPem, { mode: 0o600 });
    const stranger = await createIssuer(await createTrustAnchor(1000), 500);
    await writeFile(file('stranger.crt'), stranger.certificatePem);
    await writeFile(file('stranger.key'), stranger.keyPem, { mode: 0o600 });
    const failure = await rejectsWith(mesh.preflightMesh({ pairName: 'test', ...clusters(), trust: adopt('expired') }), {
      type: 'InvalidInput',
      retryable: false,
      message: /trust\.issuers\.east\.certificate: the issuer expired at/,
    });
    assert.doesNotMatch(failure.message, /PRIVATE KEY|BEGIN/);
    await rejectsWith(mesh.preflightMesh({ pairName: 'test', ...clusters(), trust: adopt('stranger') }), {
      type: 'InvalidInput',
      retryable: false,
      message: /trust\.issuers\.east\.certificate: the issuer \(issued by CN=root\.linkerd\.cluster\.local\) is not signed by any of the trust anchors/,
    });
  });

  test('preflight refuses adopted anchors that differ from the ones a cluster already trusts', async () => {
    const other = await createTrustAnchor(1000);
    await put(api, '/api/v1/namespaces/linkerd/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'linkerd-identity-trust-roots' },
      data: { 'ca-bundle.crt': other.certificatePem },
    });
    try {
      await rejectsWith(mesh.preflightMesh({ pairName: 'test', ...clusters(), trust: adopt() }), {
        type: 'InvalidInput',
        retryable: false,
        message: /trust\.anchors: west already runs Linkerd with other trust anchors/,
      });
    } finally {
      await api.request('DELETE', '/api/v1/namespaces/linkerd/configmaps/linkerd-identity-trust-roots');
    }
  });

  test('a valid input passes preflight up to the CLI, whose absence is reported with how to get it', async () => {
    await rejectsWith(mesh.preflightMesh({ pairName: 'test', ...clusters(), trust: adopt() }), {
      type: 'CommandFailed',
      retryable: false,
      message: /the linkerd CLI is not installed on the worker/,
    });
  });

  test("identity checks read Linkerd's trust roots and issuer: √, ‼ within 60 days, × for a foreign issuer", async () => {
    const client = await clientFor(secrets, west);
    assert.deepEqual(
      (await identityChecks(client)).map((c) => [c.description, c.status]),
      [['trust roots config map exists', 'error']],
    );
    await put(api, '/api/v1/namespaces/linkerd/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'linkerd-identity-trust-roots' },
      data: { 'ca-bundle.crt': anchor.certificatePem },
    });
    await put(api, '/api/v1/namespaces/linkerd/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'linkerd-identity-issuer' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(issuer.certificatePem), 'tls.key': b64(issuer.keyPem) },
    });
    const fingerprints = (await mesh.meshCheck({ cluster: west, scope: 'core', withoutCli: true })).checks;
    assert.ok(
      fingerprints.every((c) => c.status === 'ok'),
      JSON.stringify(fingerprints),
    );
    const soon = new Date(Date.now() + (8760 - 24 * 20) * 3600_000);
    const warned = await identityChecks(client, undefined, soon);
    assert.deepEqual(
      warned.filter((c) => c.status !== 'ok').map((c) => [c.description, c.status]),
      [['issuer cert is valid for at least 60 days', 'warning']],
    );
    const report = await mesh.meshCheck({ cluster: west, scope: 'core', withoutCli: true, expectedAnchors: ['0'.repeat(64)] });
    assert.equal(report.healthy, false);
    assert.match(report.checks.find((c) => c.status === 'error')?.error ?? '', /expected 0000000000000000/);
  });

  test("exports label east's services (once); a missing one fails before any is labelled", async () => {
    await put(api, '/api/v1/namespaces/test/services', podinfoService('podinfo'));
    await rejectsWith(
      mesh.exportServices({
        east,
        services: [
          { namespace: 'test', name: 'podinfo' },
          { namespace: 'test', name: 'frontend' },
        ],
      }),
      { type: 'VerificationFailed', retryable: false, message: /east has no Service test\/frontend/ },
    );
    const live = await api.request<{ metadata: { labels?: Record<string, string> } }>('GET', '/api/v1/namespaces/test/services/podinfo');
    assert.equal(live.body.metadata.labels?.['mirror.linkerd.io/exported'], undefined);
    assert.deepEqual(await mesh.exportServices({ east, services: [{ namespace: 'test', name: 'podinfo' }] }), {
      labelled: ['test/podinfo'],
      alreadyExported: [],
    });
    assert.deepEqual(await mesh.exportServices({ east, services: [{ namespace: 'test', name: 'podinfo' }] }), {
      labelled: [],
      alreadyExported: ['test/podinfo'],
    });
  });

  test("mirrors are verified against east's gateway, resolving a load balancer that reports only a hostname", async () => {
    // The system resolver is real (localhost), but Endpoints refuse loopback addresses, so the gateway's
    // AWS-style hostname is answered from a table standing in for DNS.
    assert.deepEqual(
      await resolveAddresses(['localhost', '192.0.2.7'], systemResolver),
      [...new Set([...(await lookup('localhost', { all: true })).map((a) => a.address), '192.0.2.7'])].sort(),
    );
    const hostname = 'gw-east-0123.elb.us-east-1.amazonaws.com';
    const dnsTable: Record<string, string[]> = { [hostname]: ['203.0.113.11', '203.0.113.10'] };
    const withDns = createMeshActivities({
      secrets,
      cli: new LinkerdCli(secrets, path.join(dir, 'no-linkerd')),
      pollIntervalMs: 100,
      resolver: async (name) => dnsTable[name] ?? Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' })),
    });
    await put(api, '/api/v1/namespaces/linkerd-multicluster/services', linkerdGatewayService());
    const status = await api.request(
      'PATCH',
      '/api/v1/namespaces/linkerd-multicluster/services/linkerd-gateway/status',
      { status: { loadBalancer: { ingress: [{ hostname }] } } },
      'application/merge-patch+json',
    );
    assert.equal(status.status, 200);
    const missing = await withDns.verifyMirrors({ west, east, services: [{ namespace: 'test', name: 'podinfo' }] });
    assert.deepEqual(missing.gateway, { reported: [hostname], ips: ['203.0.113.10', '203.0.113.11'], port: 4143 });
    assert.equal(missing.mirrors[0].exists, false);
    await put(api, '/api/v1/namespaces/test/services', podinfoService('podinfo-east', { 'mirror.linkerd.io/mirrored-service': 'true' }));
    await put(api, '/api/v1/namespaces/test/endpoints', mirrorEndpoints(['10.9.9.9']));
    const wrong = await withDns.verifyMirrors({ west, east, services: [] });
    assert.equal(wrong.mirrors[0].pointsAtGateway, false);
    assert.match(wrong.mirrors[0].message, /points at 10\.9\.9\.9, but east's gateway is 203\.0\.113\.10, 203\.0\.113\.11 \(gw-east/);
    await rejectsWith(withDns.waitMirrors({ west, east, services: [], timeoutSeconds: 1 }), {
      type: 'DeadlineExceeded',
      retryable: false,
      message: /mirrors not right after 1 s: mirror test\/podinfo-east points at 10\.9\.9\.9/,
    });
    const fixed = await api.request('PUT', '/api/v1/namespaces/test/endpoints/podinfo-east', mirrorEndpoints(['203.0.113.11', '203.0.113.10']));
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    const right = await withDns.waitMirrors({ west, east, services: [{ namespace: 'test', name: 'podinfo' }], timeoutSeconds: 10 });
    assert.deepEqual(
      right.mirrors.map((m) => [m.mirror, m.pointsAtGateway]),
      [['test/podinfo-east', true]],
    );
    delete dnsTable[hostname];
    await rejectsWith(withDns.verifyMirrors({ west, east, services: [] }), {
      type: 'Unreachable',
      retryable: true,
      message: /gateway hostname gw-east-0123\.elb\.us-east-1\.amazonaws\.com does not resolve: ENOTFOUND/,
    });
  });

  test('traffic split: refused with a hint when west serves no HTTPRoute; applied once it does', async () => {
    const input = {
      west,
      eastName: 'east',
      services: [{ namespace: 'test', name: 'podinfo' }],
      kind: 'auto' as const,
      localWeight: 100,
      remoteWeight: 0,
      linkerdVersion: 'edge-25.11.3',
    };
    await rejectsWith(mesh.ensureTrafficSplit(input), { type: 'VerificationFailed', retryable: false, message: /west serves no HTTPRoute/ });
    await put(api, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', gatewayHttpRouteCrd());
    let result;
    for (let i = 0; ; i++) {
      try {
        result = await mesh.ensureTrafficSplit(input);
        break;
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 200)); // the new CRD takes a moment to be served
      }
    }
    assert.deepEqual(result, { kind: 'httproute', apiVersion: 'gateway.networking.k8s.io/v1', applied: ['HTTPRoute test/podinfo'] });
    const route = await api.request<{ spec: { parentRefs: unknown[]; rules: Array<{ backendRefs: unknown[] }> } }>(
      'GET',
      '/apis/gateway.networking.k8s.io/v1/namespaces/test/httproutes/podinfo',
    );
    assert.deepEqual(route.body.spec.parentRefs, [{ group: 'core', kind: 'Service', name: 'podinfo', port: 9898 }]);
    assert.deepEqual(route.body.spec.rules[0].backendRefs, [
      { name: 'podinfo', port: 9898, weight: 100 },
      { name: 'podinfo-east', port: 9898, weight: 0 },
    ]);
    await rejectsWith(mesh.ensureTrafficSplit({ ...input, kind: 'smi' }), {
      type: 'VerificationFailed',
      retryable: false,
      message: /west serves no SMI TrafficSplit/,
    });
    // The CRD carries the Gateway API's schema: a misspelled field or a weight of the wrong type is refused.
    const client = await clientFor(secrets, west);
    const good = await client.get<Record<string, unknown> & { spec: { rules: Array<Record<string, unknown>> } }>(
      '/apis/gateway.networking.k8s.io/v1/namespaces/test/httproutes/podinfo',
    );
    const misspelled = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: { ...good.spec, rules: [{ backendRef: [{ name: 'podinfo', port: 9898 }] }] },
    };
    await assert.rejects(
      client.apply(misspelled, { fieldManager: 'kubeha-test', dryRun: false }),
      /\.spec\.rules\[0\]\.backendRef: field not declared in schema/,
    );
    const wrongType = { ...misspelled, spec: { ...good.spec, rules: [{ backendRefs: [{ name: 'podinfo', port: 9898, weight: 'half' }] }] } };
    await assert.rejects(client.apply(wrongType, { fieldManager: 'kubeha-test', dryRun: false }), /weight/);
  });
});
