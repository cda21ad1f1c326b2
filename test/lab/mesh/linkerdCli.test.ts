/**
 * Contract tests of the lab linkerd (lab/mesh/cli) against a real kube-apiserver: kubeha's own driver
 * (LinkerdCli, installCrds, installControlPlane, meshCheck) runs the lab CLI, applies what it renders,
 * and reads its checks; `check -o json` is held to linkerd2's JSON schema; the failing identities
 * (issuer not signed by the anchor, anchors that differ from the issuer's signer or between linked
 * clusters, expiry within 60 days) show up as Linkerd reports them and as kubeha parses them.
 *
 * One API server stands for both clusters: west's control plane lives in `linkerd`, east's in
 * `linkerd-east` (the CLI's `--linkerd-namespace`), and the contexts `west` and `east` reach it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { parseCheckJson } from '../../../activities/mesh/checkResults';
import { createMeshActivities } from '../../../activities/mesh';
import { clientFor, resolveClusterAccess } from '../../../activities/mesh/clusterAccess';
import { installedLinkerd } from '../../../activities/mesh/clusterState';
import { installControlPlane, installCrds, type InstallDeps } from '../../../activities/mesh/install';
import { LinkerdCli } from '../../../activities/mesh/linkerdCli';
import { createIssuer, createTrustAnchor, type KeyedCertificate } from '../../../activities/mesh/pki';
import { ensureTrust, trustSecretNames } from '../../../activities/mesh/trust';
import type { ClusterAccess, MeshActivities, TrustMaterial } from '../../../activities/mesh/types';
import { applyObjects } from '../../../activities/kubernetes/apply';
import { parseManifest } from '../../../activities/kubernetes/manifest';
import { FileSecretStore } from '../../../activities/secrets/store';
import { projectRoot } from '../../../lib/paths';
import { markRolledOut, startTestApiServer, type TestApiServer } from '../../support/apiserver';
import { writeTwoContextKubeconfig } from '../../mesh/meshApi';
import { runControlPlanePods } from './controlPlanePods';

const run = promisify(execFile);
const LAB_LINKERD = path.join(projectRoot, 'lab', 'tools', 'bin', 'linkerd');
const DAY_HOURS = 24;

let api: TestApiServer;
let dir: string;
let secrets: FileSecretStore;
let mesh: MeshActivities;
let deps: InstallDeps;
let west: ClusterAccess;
let trust: TrustMaterial;
const file = (name: string) => path.join(dir, name);
const b64 = (text: string) => Buffer.from(text.trim()).toString('base64');

/** Runs the lab CLI; never rejects (exit codes are results here). */
async function linkerd(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(LAB_LINKERD, args, { maxBuffer: 16 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : -1 };
  }
}

/** Applies rendered YAML with kubeha's server-side apply. */
async function apply(text: string, origin: string): Promise<void> {
  await applyObjects(await clientFor(secrets, west), parseManifest(text, origin), {
    fieldManager: 'test',
    dryRun: false,
    crdTimeoutMs: 30_000,
    pollIntervalMs: 200,
  });
}

/** Replaces west's issuer in its Secret, as an operator's edit would. */
async function patchIssuer(issuer: KeyedCertificate): Promise<void> {
  const res = await api.request(
    'PATCH',
    '/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer',
    { data: { 'crt.pem': b64(issuer.certificatePem), 'key.pem': b64(issuer.keyPem) } },
    'application/merge-patch+json',
  );
  assert.equal(res.status, 200);
}

/** Changes the chart values `linkerd-config` stores in `ns`. */
async function patchValues(ns: string, change: (values: Record<string, unknown>) => void): Promise<void> {
  const cm = await api.request<{ data: Record<string, string> }>('GET', `/api/v1/namespaces/${ns}/configmaps/linkerd-config`);
  const values = parse(cm.body.data.values) as Record<string, unknown>;
  change(values);
  const res = await api.request(
    'PATCH',
    `/api/v1/namespaces/${ns}/configmaps/linkerd-config`,
    { data: { values: stringify(values) } },
    'application/merge-patch+json',
  );
  assert.equal(res.status, 200);
}

/** The anchor and west's issuer kubeha generated, read back from its secret store. */
async function storedTrust(): Promise<{ anchor: KeyedCertificate; issuer: KeyedCertificate }> {
  const names = trustSecretNames('lab');
  return {
    anchor: { certificatePem: await secrets.get(names.anchors), keyPem: await secrets.get(names.anchorKey) },
    issuer: { certificatePem: await secrets.get(names.issuerCertificate('west')), keyPem: await secrets.get(names.issuerKey('west')) },
  };
}

type JsonCheck = { description: string; result: string; error?: string; hint?: string };

/** Holds `text` to linkerd2's `check -o json` schema (healthcheck.CheckOutput) and returns it. */
function assertCheckSchema(text: string): { success: boolean; categories: Array<{ categoryName: string; checks: JsonCheck[] }> } {
  const doc = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc).sort(), ['categories', 'success']);
  assert.equal(typeof doc.success, 'boolean');
  assert.ok(Array.isArray(doc.categories) && doc.categories.length > 0, 'categories is a non-empty array');
  for (const category of doc.categories as Array<Record<string, unknown>>) {
    assert.deepEqual(Object.keys(category).sort(), ['categoryName', 'checks']);
    assert.match(String(category.categoryName), /^[a-z][a-z0-9-]*$/);
    for (const check of category.checks as Array<Record<string, unknown>>) {
      assert.ok(
        Object.keys(check).every((k) => ['description', 'hint', 'error', 'result'].includes(k)),
        `unexpected keys ${Object.keys(check)}`,
      );
      assert.equal(typeof check.description, 'string');
      assert.ok(['success', 'warning', 'error'].includes(String(check.result)), `result ${check.result}`);
      // linkerd2 prints error and hint only for a failed check.
      assert.equal('error' in check, check.result !== 'success', `error iff not success: ${JSON.stringify(check)}`);
      assert.equal('hint' in check, check.result !== 'success');
      if (check.hint) assert.match(String(check.hint), /^https:\/\/linkerd\.io\/2\/checks\/#[A-Za-z0-9-]+$/);
    }
  }
  const failed = (doc.categories as Array<{ checks: JsonCheck[] }>).some((c) => c.checks.some((k) => k.result === 'error'));
  assert.equal(doc.success, !failed, 'success is false exactly when a check is an error');
  return doc as ReturnType<typeof assertCheckSchema>;
}

const find = (checks: ReturnType<typeof parseCheckJson>, description: string) => {
  const found = checks.find((c) => c.description.split('\n')[0] === description);
  assert.ok(found, `no check "${description}" in ${checks.map((c) => c.description).join(' | ')}`);
  return found;
};

before(async () => {
  api = await startTestApiServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-lab-linkerd-'));
  secrets = new FileSecretStore(path.join(dir, 'secrets'));
  const cli = new LinkerdCli(secrets, LAB_LINKERD, 60_000);
  mesh = createMeshActivities({ secrets, cli, pollIntervalMs: 200, requestTimeoutMs: 5000 });
  await writeTwoContextKubeconfig(api, file('kubeconfig'));
  west = await resolveClusterAccess(secrets, 'lab', 'west', { name: 'west', kubeconfig: { file: file('kubeconfig') }, context: 'west', set: [] });
  deps = { secrets, cli, client: (access) => clientFor(secrets, access), pollIntervalMs: 200, crdTimeoutMs: 30_000 };
  trust = await ensureTrust(secrets, 'lab', { mode: 'generate', anchorValidityHours: 87_600, issuerValidityHours: 8760 }, false);
});
after(async () => {
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lab linkerd against a real API server', { timeout: 120_000 }, () => {
  test('version and unknown flags answer as the CLI does', async () => {
    assert.deepEqual(await linkerd('version', '--client', '--short'), { stdout: 'edge-25.11.3\n', stderr: '', code: 0 });
    const bad = await linkerd('install', '--no-such-flag');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error: unknown flag: --no-such-flag/);
  });

  test('check --pre before the install passes; an unknown --context fails the first check, fatally', async () => {
    const pre = await linkerd('--kubeconfig', file('kubeconfig'), '--context', 'west', 'check', '--pre', '-o', 'json');
    const doc = assertCheckSchema(pre.stdout);
    assert.equal(pre.code, 0, pre.stdout);
    assert.deepEqual(
      doc.categories.map((c) => c.categoryName),
      ['kubernetes-api', 'kubernetes-version', 'pre-kubernetes-setup'],
    );
    const lost = await linkerd('--kubeconfig', file('kubeconfig'), '--context', 'nowhere', 'check', '-o', 'json');
    assert.equal(lost.code, 1);
    assert.deepEqual(parseCheckJson(lost.stdout), [
      {
        category: 'kubernetes-api',
        description: 'can initialize the client',
        status: 'error',
        error: 'context "nowhere" does not exist',
        hint: 'https://linkerd.io/2/checks/#k8s-api',
      },
    ]);
  });

  test("kubeha's anchor and issuers pass openssl verify and the lab install; kubeha's driver applies the render", async () => {
    const { anchor, issuer } = await storedTrust();
    await writeFile(file('anchor.crt'), anchor.certificatePem);
    await writeFile(file('issuer.crt'), issuer.certificatePem);
    assert.match((await run('openssl', ['verify', '-CAfile', file('anchor.crt'), file('issuer.crt')])).stdout, /issuer\.crt: OK/);
    const crds = await installCrds(deps, west, false);
    assert.equal(crds.alreadyInstalled, false);
    assert.ok(crds.applied >= 10, `applied ${crds.applied}`);
    assert.equal((await installCrds(deps, west, false)).alreadyInstalled, true, 'a second CRD install finds every CRD at this version');
    const cp = await installControlPlane(deps, west, trust, [], false);
    assert.equal(cp.alreadyInstalled, false, cp.note);
    assert.deepEqual(cp.workloads.map((w) => w.name).sort(), ['linkerd-destination', 'linkerd-identity', 'linkerd-proxy-injector']);
    // What kubeha reads back is what it gave: the anchors in the trust roots, its issuer in the Secret.
    const roots = await api.request<{ data: Record<string, string> }>('GET', '/api/v1/namespaces/linkerd/configmaps/linkerd-identity-trust-roots');
    assert.equal(roots.body.data['ca-bundle.crt'], anchor.certificatePem.trim());
    const again = await installControlPlane(deps, west, trust, [], false);
    assert.equal(again.alreadyInstalled, true, `a second install is a no-op: ${again.note}`);
  });

  test('an install cut short after the identity objects is applied again: every rendered object must be there', async () => {
    const deployment = '/apis/apps/v1/namespaces/linkerd/deployments/linkerd-destination';
    assert.equal((await api.request('DELETE', deployment)).status, 200);
    const resumed = await installControlPlane(deps, west, trust, [], false);
    assert.equal(resumed.alreadyInstalled, false, resumed.note);
    assert.match(resumed.note, /1 objects missing: Deployment linkerd\/linkerd-destination/);
    assert.ok(
      resumed.workloads.some((w) => w.name === 'linkerd-destination'),
      'the rollout is waited for again',
    );
    assert.equal((await api.request('GET', deployment)).status, 200);
    assert.equal((await installControlPlane(deps, west, trust, [], false)).alreadyInstalled, true);
  });

  // The chart labels its workloads with app.kubernetes.io/version (not a linkerd.io label): kubeha reads that.
  test("kubeha reads the installed control plane's version from the chart's label", async () => {
    const installed = await installedLinkerd(await clientFor(secrets, west));
    assert.equal(installed.version, 'edge-25.11.3');
  });

  test('the lab install refuses an issuer its anchors did not sign, as the CLI does', async () => {
    const other = await createTrustAnchor(1000);
    const { issuer } = await storedTrust();
    await writeFile(file('other.crt'), other.certificatePem);
    await writeFile(file('issuer.key'), issuer.keyPem, { mode: 0o600 });
    const res = await linkerd(
      'install',
      '--identity-trust-anchors-file',
      file('other.crt'),
      '--identity-issuer-certificate-file',
      file('issuer.crt'),
      '--identity-issuer-key-file',
      file('issuer.key'),
    );
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^Error: failed to validate issuer credentials: x509: certificate signed by unknown authority/);
    assert.equal(res.stdout, '');
  });

  test("meshCheck looks once: with no control-plane pod it answers within seconds, not after linkerd's 5-minute wait", async () => {
    const started = Date.now();
    const report = await mesh.meshCheck({ cluster: west, scope: 'core' });
    const took = Date.now() - started;
    assert.ok(took < 30_000, `meshCheck took ${took} ms`);
    assert.equal(report.healthy, false);
    const pods = report.checks.find((c) => c.category === 'linkerd-existence' && c.status === 'error');
    assert.ok(pods, `a linkerd-existence check fails: ${JSON.stringify(report.checks.filter((c) => c.status !== 'ok'))}`);
  });

  test('healthy: check -o json fits the schema, exits 0, and kubeha reads every check ok', async () => {
    for (const name of ['linkerd-identity', 'linkerd-destination', 'linkerd-proxy-injector'])
      await markRolledOut(api, { kind: 'Deployment', namespace: 'linkerd', name });
    await runControlPlanePods(api, 'linkerd');
    const res = await linkerd('--kubeconfig', file('kubeconfig'), '--context', 'west', 'check', '-o', 'json');
    const doc = assertCheckSchema(res.stdout);
    assert.equal(res.code, 0, res.stdout);
    assert.equal(doc.success, true);
    assert.deepEqual(
      doc.categories.map((c) => c.categoryName),
      ['kubernetes-api', 'kubernetes-version', 'linkerd-existence', 'linkerd-config', 'linkerd-identity', 'control-plane-version'],
    );
    const pre = await linkerd('--kubeconfig', file('kubeconfig'), '--context', 'west', 'check', '--pre', '-o', 'json');
    assert.equal(pre.code, 1, 'check --pre fails once Linkerd is installed');
    assert.equal(find(parseCheckJson(pre.stdout), 'control plane namespace does not already exist').error, 'The "linkerd" namespace already exists');
    const report = await mesh.meshCheck({ cluster: west, scope: 'core' });
    assert.equal(report.healthy, true, JSON.stringify(report.checks.filter((c) => c.status !== 'ok')));
    assert.ok(report.checks.every((c) => c.status === 'ok'));
    const identity = report.checks.filter((c) => c.category === 'linkerd-identity').map((c) => c.description);
    assert.deepEqual(identity, [
      'certificate config is valid',
      'trust anchors are using supported crypto algorithm',
      'trust anchors are within their validity period',
      'trust anchors are valid for at least 60 days',
      'issuer cert is using supported crypto algorithm',
      'issuer cert is within its validity period',
      'issuer cert is valid for at least 60 days',
      'issuer cert is issued by the trust anchor',
    ]);
  });

  /** West's `check -o json` with a broken issuer chain: schema-valid, exit 1, and the issued-by check an error. */
  const brokenChainCheck = async () => {
    const res = await linkerd('--kubeconfig', file('kubeconfig'), '--context', 'west', 'check', '-o', 'json');
    assertCheckSchema(res.stdout);
    assert.equal(res.code, 1);
    const check = find(parseCheckJson(res.stdout), 'issuer cert is issued by the trust anchor');
    assert.equal(check.status, 'error');
    return check;
  };

  test('an issuer not signed by the anchor: error, exit 1, kubeha reports unhealthy', async () => {
    const { issuer } = await storedTrust();
    const stranger = await createIssuer(await createTrustAnchor(87_600), 8760);
    await patchIssuer(stranger);
    try {
      const check = await brokenChainCheck();
      assert.match(check.error ?? '', /^x509: certificate signed by unknown authority/);
      assert.equal(check.hint, 'https://linkerd.io/2/checks/#l5d-identity-issuer-cert-issued-by-trust-anchor');
      const report = await mesh.meshCheck({ cluster: west, scope: 'core' });
      assert.equal(report.healthy, false);
      assert.equal(
        find(
          report.checks.filter((c) => c.category === 'linkerd-identity'),
          'issuer cert is issued by the trust anchor',
        ).status,
        'error',
      );
    } finally {
      await patchIssuer(issuer);
    }
  });

  test("trust anchors that differ from the issuer's signer: the same error", async () => {
    const { anchor } = await storedTrust();
    const other = await createTrustAnchor(87_600);
    await patchValues('linkerd', (v) => (v.identityTrustAnchorsPEM = other.certificatePem));
    try {
      const check = await brokenChainCheck();
      assert.match(check.error ?? '', /x509: ECDSA verification failure.*"root\.linkerd\.cluster\.local"/);
    } finally {
      await patchValues('linkerd', (v) => (v.identityTrustAnchorsPEM = anchor.certificatePem.trim()));
    }
  });

  test('an issuer expiring within 60 days: a warning, exit 0, kubeha still healthy with the warning', async () => {
    const { anchor, issuer } = await storedTrust();
    await patchIssuer(await createIssuer(anchor, 30 * DAY_HOURS));
    try {
      const res = await linkerd('--kubeconfig', file('kubeconfig'), '--context', 'west', 'check', '-o', 'json');
      const doc = assertCheckSchema(res.stdout);
      assert.equal(res.code, 0);
      assert.equal(doc.success, true);
      const check = find(parseCheckJson(res.stdout), 'issuer cert is valid for at least 60 days');
      assert.equal(check.status, 'warning');
      assert.match(check.error ?? '', /^issuer certificate will expire on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const report = await mesh.meshCheck({ cluster: west, scope: 'core' });
      assert.equal(report.healthy, true);
      assert.ok(report.checks.some((c) => c.category === 'linkerd-identity' && c.status === 'warning'));
    } finally {
      await patchIssuer(issuer);
    }
  });

  test('multicluster: link-gen from east, then check finds anchors that differ between the clusters, then none', async () => {
    const east = ['--kubeconfig', file('kubeconfig'), '--context', 'east', '--linkerd-namespace', 'linkerd-east'];
    const westCli = ['--kubeconfig', file('kubeconfig'), '--context', 'west'];
    // East: a control plane with its own anchor, and the multicluster extension with a controller for the Link.
    const eastAnchor = await createTrustAnchor(87_600);
    const eastIssuer = await createIssuer(eastAnchor, 8760);
    await writeFile(file('east-anchor.crt'), eastAnchor.certificatePem);
    await writeFile(file('east-issuer.crt'), eastIssuer.certificatePem);
    await writeFile(file('east-issuer.key'), eastIssuer.keyPem, { mode: 0o600 });
    const installEast = (anchors: string, crt: string, key: string) =>
      linkerd(...east, 'install', '--identity-trust-anchors-file', anchors, '--identity-issuer-certificate-file', crt, '--identity-issuer-key-file', key);
    const cp = await installEast(file('east-anchor.crt'), file('east-issuer.crt'), file('east-issuer.key'));
    assert.equal(cp.code, 0, cp.stderr);
    await apply(cp.stdout, 'linkerd install (east)');
    const mc = await linkerd(...westCli, 'multicluster', 'install', '--set', 'controllers[0].link.ref.name=east');
    assert.equal(mc.code, 0, mc.stderr);
    await apply(mc.stdout, 'linkerd multicluster install');
    // What the cloud controller and the token controller would do on east.
    const lb = await api.request(
      'PATCH',
      '/api/v1/namespaces/linkerd-multicluster/services/linkerd-gateway/status',
      { status: { loadBalancer: { ingress: [{ ip: '10.20.2.200' }] } } },
      'application/merge-patch+json',
    );
    assert.equal(lb.status, 200);
    const token = await api.request<{ status: { token: string } }>(
      'POST',
      '/api/v1/namespaces/linkerd-multicluster/serviceaccounts/linkerd-service-mirror-remote-access-default/token',
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    );
    assert.equal(token.status, 201, JSON.stringify(token.body));
    await api.request(
      'PATCH',
      '/api/v1/namespaces/linkerd-multicluster/secrets/linkerd-service-mirror-remote-access-default-token',
      { data: { token: b64(token.body.status.token) } },
      'application/merge-patch+json',
    );

    const link = await linkerd(...east, 'multicluster', 'link-gen', '--cluster-name', 'east');
    assert.equal(link.code, 0, link.stderr);
    const objects = parseManifest(link.stdout, 'link-gen').map((o) => o.object);
    const linkObject = objects.find((o) => o.kind === 'Link') as { spec: Record<string, unknown> } | undefined;
    assert.ok(linkObject);
    assert.equal(linkObject.spec.gatewayAddress, '10.20.2.200');
    assert.equal(linkObject.spec.gatewayPort, '4143');
    assert.equal(linkObject.spec.clusterCredentialsSecret, 'cluster-credentials-east');
    await apply(link.stdout, 'linkerd multicluster link-gen');
    await markRolledOut(api, { kind: 'Deployment', namespace: 'linkerd-multicluster', name: 'controller-east' });

    const mismatch = await linkerd(...westCli, 'multicluster', 'check', '-o', 'json');
    assert.ok(mismatch.stdout, mismatch.stderr);
    assertCheckSchema(mismatch.stdout);
    assert.equal(mismatch.code, 1, mismatch.stdout);
    const shared = find(parseCheckJson(mismatch.stdout), 'clusters share trust anchors');
    assert.equal(shared.status, 'error');
    assert.equal(shared.error, 'Problematic clusters:\n    * east');
    assert.equal(find(parseCheckJson(mismatch.stdout), 'remote cluster access credentials are valid').status, 'ok');

    // East reinstalled with the pair's anchor (and an issuer it signed): the clusters agree.
    const { issuer } = await storedTrust();
    await writeFile(file('issuer.key'), issuer.keyPem, { mode: 0o600 });
    const fixed = await installEast(file('anchor.crt'), file('issuer.crt'), file('issuer.key'));
    assert.equal(fixed.code, 0, fixed.stderr);
    await apply(fixed.stdout, 'linkerd install (east, shared anchor)');
    const healthy = await linkerd(...westCli, 'multicluster', 'check', '-o', 'json');
    assertCheckSchema(healthy.stdout);
    assert.equal(healthy.code, 0, healthy.stdout);
    assert.ok(parseCheckJson(healthy.stdout).every((c) => c.status === 'ok'));

    const gateways = await linkerd(...westCli, 'multicluster', 'gateways', '--cluster-name', 'east');
    assert.equal(gateways.code, 0, gateways.stderr);
    assert.match(gateways.stdout, /^CLUSTER\s+ALIVE\s+NUM_SVC\s+LATENCY\neast\s+False\s+0\s+-\n$/, 'the gateway has no ready endpoint yet');
    // What the endpoints controller writes once a gateway pod is ready.
    const endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'linkerd-gateway', namespace: 'linkerd-multicluster' },
      subsets: [{ addresses: [{ ip: '10.20.1.200' }], ports: [{ name: 'mc-gateway', port: 4143 }] }],
    };
    assert.equal((await api.request('POST', '/api/v1/namespaces/linkerd-multicluster/endpoints', endpoints)).status, 201);
    assert.match((await linkerd(...westCli, 'multicluster', 'gateways', '--cluster-name', 'east')).stdout, /\neast\s+True\s+0\s+1ms\n$/);
  });
});
