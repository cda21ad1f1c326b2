/**
 * The Linkerd issuer's expiry watch and renewal (RotateCertificateKey's check-mesh-issuer and
 * renew-mesh-issuer activities) against a real kube-apiserver with Linkerd installed by kubeha's own
 * driver and the lab linkerd: an issuer that expires within 60 days is warned about, renewed from the
 * anchor in kubeha's store, identity restarted; a second pass writes nothing; the lab's `linkerd check`
 * is clean afterwards; adopted trust is refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { createKubernetesActivities } from '../../../activities/kubernetes';
import { createMeshActivities } from '../../../activities/mesh';
import { clientFor, resolveClusterAccess } from '../../../activities/mesh/clusterAccess';
import { installControlPlane, installCrds, type InstallDeps } from '../../../activities/mesh/install';
import { RESTARTED_AT, RESTARTED_FOR } from '../../../activities/mesh/issuerRenewal';
import { LinkerdCli } from '../../../activities/mesh/linkerdCli';
import { createIssuer, keyMatches, parseCertificates } from '../../../activities/mesh/pki';
import { ensureTrust, trustSecretNames } from '../../../activities/mesh/trust';
import type { ClusterAccess, IssuerExpiryInput, MeshActivities } from '../../../activities/mesh/types';
import { FileSecretStore, type SecretStore } from '../../../activities/secrets/store';
import { formatReport, readLinkerdIssuer } from '../../../client/commands/report';
import { failureInfo } from '../../../common/errors';
import { haReport } from '../../../common/haReport';
import { projectRoot } from '../../../lib/paths';
import { markRolledOut, startTestApiServer, type TestApiServer } from '../../support/apiserver';
import { adoptedTrustInput, writeAdoptedTrust, writeTwoContextKubeconfig } from '../../mesh/meshApi';
import { runControlPlanePods } from './controlPlanePods';

const run = promisify(execFile);
const LAB_LINKERD = path.join(projectRoot, 'lab', 'tools', 'bin', 'linkerd');
const DAY_MS = 24 * 3600_000;
const IDENTITY = { kind: 'Deployment' as const, namespace: 'linkerd', name: 'linkerd-identity' };
const WATCH: IssuerExpiryInput = { pairName: 'lab', role: 'west', cluster: 'west', thresholdDays: 60 };
const RENEW = { ...WATCH, validityHours: 8760 };

/** `kubeha report`'s warnings about west's Linkerd issuer, read live (the topology's own warnings left out). */
async function reportWarnings(): Promise<string[]> {
  const linkerdIssuer = await readLinkerdIssuer(secrets, { pairName: 'lab', role: 'west', thresholdDays: 60 }, 'west');
  const report = haReport({ clusterName: 'west', hosts: [{ name: 'cp-1', role: 'control-plane', zone: 'a' }], linkerdIssuer });
  return formatReport(report, 400).filter((line) => line.startsWith('  ! ') && line.includes('Linkerd issuer'));
}

let api: TestApiServer;
let dir: string;
let secrets: SecretStore;
/** Names written to the secret store, in order (what a second pass must not add to). */
const writes: string[] = [];
let mesh: MeshActivities;
let west: ClusterAccess;
let shortIssuerNotAfter: string;
const file = (name: string) => path.join(dir, name);

/** A store that records its writes. */
function countingStore(inner: SecretStore): SecretStore {
  return {
    put: (name, value) => (writes.push(name), inner.put(name, value)),
    get: (name) => inner.get(name),
    has: (name) => inner.has(name),
    delete: (name) => (writes.push(`delete ${name}`), inner.delete(name)),
    putIfAbsent: (name, value) => (writes.push(name), inner.putIfAbsent(name, value)),
  };
}

type Secret = { metadata: { resourceVersion: string }; data: Record<string, string> };
type Deployment = {
  metadata: { resourceVersion: string; generation: number; creationTimestamp: string; annotations?: Record<string, string> };
  spec: { template: { metadata: { annotations?: Record<string, string> } } };
};
const issuerSecret = async () => (await api.request<Secret>('GET', '/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer')).body;
const identity = async () => (await api.request<Deployment>('GET', '/apis/apps/v1/namespaces/linkerd/deployments/linkerd-identity')).body;
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** The lab CLI's `check -o json` on west; never rejects (exit codes are results here). */
async function linkerdCheck(): Promise<{
  code: number;
  doc: { success: boolean; categories: Array<{ checks: Array<{ description: string; result: string; error?: string }> }> };
}> {
  const args = ['--kubeconfig', file('kubeconfig'), '--context', 'west', 'check', '-o', 'json'];
  try {
    const { stdout } = await run(LAB_LINKERD, args, { maxBuffer: 16 << 20 });
    return { code: 0, doc: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { stdout?: string; code?: number };
    return { code: typeof e.code === 'number' ? e.code : -1, doc: JSON.parse(e.stdout || '{"success":false,"categories":[]}') };
  }
}
const checkResults = (doc: Awaited<ReturnType<typeof linkerdCheck>>['doc']) => doc.categories.flatMap((c) => c.checks);

before(async () => {
  api = await startTestApiServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-issuer-renewal-'));
  secrets = countingStore(new FileSecretStore(path.join(dir, 'secrets')));
  const cli = new LinkerdCli(secrets, LAB_LINKERD, 60_000);
  mesh = createMeshActivities({ secrets, cli, pollIntervalMs: 200, requestTimeoutMs: 5000 });
  await writeTwoContextKubeconfig(api, file('kubeconfig'));
  west = await resolveClusterAccess(secrets, 'lab', 'west', { name: 'west', kubeconfig: { file: file('kubeconfig') }, context: 'west', set: [] });
  // The pair's trust as LinkMeshClusters makes it, but west's issuer made 335 days ago: 30 days left.
  await ensureTrust(secrets, 'lab', { mode: 'generate', anchorValidityHours: 87_600, issuerValidityHours: 8760 }, false);
  const names = trustSecretNames('lab');
  const anchor = { certificatePem: await secrets.get(names.anchors), keyPem: await secrets.get(names.anchorKey) };
  const short = await createIssuer(anchor, 30 * 24);
  shortIssuerNotAfter = parseCertificates(short.certificatePem)[0].notAfter.toISOString();
  await secrets.put(names.issuerKey('west'), short.keyPem);
  await secrets.put(names.issuerCertificate('west'), short.certificatePem);
  await writeFile(file('anchor.crt'), anchor.certificatePem);
  // ensureTrust keeps an issuer within 60 days (a warning): the install uses the short one.
  const trust = await ensureTrust(secrets, 'lab', { mode: 'generate', anchorValidityHours: 87_600, issuerValidityHours: 8760 }, false);
  assert.deepEqual(trust.created, []);
  const deps: InstallDeps = { secrets, cli, client: (access) => clientFor(secrets, access), pollIntervalMs: 200, crdTimeoutMs: 30_000 };
  await installCrds(deps, west, false);
  await installControlPlane(deps, west, trust, [], false);
  for (const name of ['linkerd-identity', 'linkerd-destination', 'linkerd-proxy-injector']) await markRolledOut(api, { ...IDENTITY, name });
  await runControlPlanePods(api, 'linkerd');
});
after(async () => {
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Linkerd issuer watch and renewal against a real API server', { timeout: 180_000 }, () => {
  test('an issuer within 60 days: the watch warns naming the cluster and the date, as linkerd check does', async () => {
    const expiry = await mesh.meshIssuerExpiry(WATCH);
    assert.equal(expiry.found, true);
    assert.equal(expiry.due, true);
    assert.equal(expiry.notAfter, shortIssuerNotAfter);
    assert.ok(expiry.daysLeft === 29 || expiry.daysLeft === 30, `daysLeft ${expiry.daysLeft}`);
    assert.equal(expiry.warning, `west: the Linkerd issuer expires at ${shortIssuerNotAfter} (in ${expiry.daysLeft} days, within 60)`);
    assert.equal(expiry.renewable, true, expiry.notRenewableReason);
    assert.deepEqual(await reportWarnings(), [
      `  ! ${expiry.warning}: RotateCertificateKey with meshIssuer renews it from the pair's anchor and restarts linkerd-identity`,
    ]);
    const check = await linkerdCheck();
    assert.equal(check.code, 0);
    assert.equal(checkResults(check.doc).find((c) => c.description === 'issuer cert is valid for at least 60 days')?.result, 'warning');
    // A threshold below the days left: nothing due, no warning.
    const relaxed = await mesh.meshIssuerExpiry({ ...WATCH, thresholdDays: 20 });
    assert.equal(relaxed.due, false);
    assert.equal(relaxed.warning, undefined);
  });

  test('renewal: a new issuer from the anchor in the Secret and the store, identity restarted and rolled out', async () => {
    const before = await issuerSecret();
    const identityBefore = await identity();
    assert.equal(identityBefore.spec.template.metadata.annotations?.[RESTARTED_AT], undefined);
    // Times on the Deployment have whole seconds: a renewal in the second of the install could not tell
    // whether identity started before the new issuer (a real renewal comes months after the install).
    const created = Date.parse(identityBefore.metadata.creationTimestamp);
    await new Promise((r) => setTimeout(r, Math.max(0, created + 2000 - Date.now())));
    writes.length = 0;
    const startedAt = Date.now();
    const result = await mesh.renewMeshIssuer(RENEW);
    assert.equal(result.secretWritten, true);
    assert.equal(result.stored, true);
    assert.equal(result.restarted, true);
    assert.deepEqual(result.workload, IDENTITY);
    assert.equal(result.kubeconfigSecret, west.kubeconfigSecret);
    assert.deepEqual(writes, [trustSecretNames('lab').issuerKey('west'), trustSecretNames('lab').issuerCertificate('west')]);

    const after = await issuerSecret();
    assert.notEqual(after.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.notEqual(after.data['crt.pem'], before.data['crt.pem']);
    const certificatePem = decode(after.data['crt.pem']);
    await writeFile(file('renewed.crt'), certificatePem);
    assert.match((await run('openssl', ['verify', '-CAfile', file('anchor.crt'), file('renewed.crt')])).stdout, /renewed\.crt: OK/);
    const cert = parseCertificates(certificatePem)[0];
    assert.equal(cert.notAfter.toISOString(), result.notAfter);
    const daysOut = (cert.notAfter.getTime() - startedAt) / DAY_MS;
    assert.ok(daysOut > 364.9 && daysOut < 365.1, `expires ${daysOut} days out`);
    const text = (await run('openssl', ['x509', '-noout', '-text', '-in', file('renewed.crt')])).stdout;
    assert.match(text, /Subject: CN ?= ?identity\.linkerd\.cluster\.local/);
    assert.match(text, /CA:TRUE, pathlen:0/);
    assert.match(text, /ASN1 OID: prime256v1/);
    // The key in the Secret is the certificate's, SEC1, and the store holds the same issuer.
    assert.match(decode(after.data['key.pem']), /^-----BEGIN EC PRIVATE KEY-----/);
    assert.ok(keyMatches(cert, decode(after.data['key.pem'])));
    const names = trustSecretNames('lab');
    assert.equal(await secrets.get(names.issuerCertificate('west')), certificatePem);
    assert.equal(await secrets.get(names.issuerKey('west')), decode(after.data['key.pem']));
    assert.equal(JSON.stringify(result).includes('PRIVATE KEY'), false, 'no key in what crosses history');

    const restarted = await identity();
    const restartedAt = restarted.spec.template.metadata.annotations?.[RESTARTED_AT] ?? '';
    assert.match(restartedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(restartedAt) - startedAt) < 60_000, restartedAt);
    assert.equal(restarted.metadata.generation, identityBefore.metadata.generation + 1, 'the pod template changed: a rollout');
    assert.equal(restarted.metadata.annotations?.[RESTARTED_FOR], result.fingerprint);

    // The rollout wait kubeha's workflow runs: done once the controller has rolled the new template out.
    const kube = createKubernetesActivities({ secrets, pollIntervalMs: 200 });
    const waiting = kube.waitRollout({ kubeconfigSecret: result.kubeconfigSecret, workloads: [result.workload], timeoutSeconds: 30 });
    await markRolledOut(api, IDENTITY);
    await waiting;
    const expiry = await mesh.meshIssuerExpiry(WATCH);
    assert.equal(expiry.due, false);
    assert.equal(expiry.warning, undefined);
    assert.equal(expiry.fingerprint, result.fingerprint);
  });

  test('a second renewal pass changes nothing: no write to the cluster or the store', async () => {
    const [secretRv, identityRv] = [(await issuerSecret()).metadata.resourceVersion, (await identity()).metadata.resourceVersion];
    writes.length = 0;
    const again = await mesh.renewMeshIssuer(RENEW);
    assert.equal(again.secretWritten, false);
    assert.equal(again.stored, false);
    assert.equal(again.restarted, false);
    assert.deepEqual(writes, []);
    assert.equal((await issuerSecret()).metadata.resourceVersion, secretRv);
    assert.equal((await identity()).metadata.resourceVersion, identityRv);
  });

  test("the lab's linkerd check is healthy after the renewal, with no expiry warning", async () => {
    const check = await linkerdCheck();
    assert.equal(check.code, 0);
    assert.equal(check.doc.success, true);
    const results = checkResults(check.doc);
    assert.equal(results.find((c) => c.description === 'issuer cert is valid for at least 60 days')?.result, 'success');
    assert.equal(results.find((c) => c.description === 'issuer cert is issued by the trust anchor')?.result, 'success');
    assert.deepEqual(
      results.filter((c) => c.result !== 'success'),
      [],
    );
    assert.deepEqual(await reportWarnings(), [], 'the report no longer warns');
  });

  test('a renewal interrupted after storing its issuer installs that issuer on the retry, not another', async () => {
    const names = trustSecretNames('lab');
    const anchor = { certificatePem: await secrets.get(names.anchors), keyPem: await secrets.get(names.anchorKey) };
    // The cluster holds a due issuer again; the store already holds a fresh one (the crashed attempt's).
    const due = await createIssuer(anchor, 10 * 24);
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const patched = await api.request(
      'PATCH',
      '/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer',
      { data: { 'crt.pem': b64(due.certificatePem), 'key.pem': b64(due.keyPem) } },
      'application/merge-patch+json',
    );
    assert.equal(patched.status, 200);
    const stored = await secrets.get(names.issuerCertificate('west'));
    writes.length = 0;
    const retry = await mesh.renewMeshIssuer(RENEW);
    assert.equal(retry.secretWritten, true);
    assert.equal(retry.stored, false);
    assert.deepEqual(writes, []);
    assert.equal(decode((await issuerSecret()).data['crt.pem']), stored);
  });

  test('adopted trust: the watch says why kubeha cannot renew, and a renewal is refused with a hint', async () => {
    const adoptDir = path.join(dir, 'adopted');
    await mkdir(adoptDir);
    await writeAdoptedTrust(adoptDir);
    const adoptFile = (name: string) => path.join(adoptDir, name);
    await ensureTrust(secrets, 'adopted', adoptedTrustInput(adoptFile, 'issuer'), false);
    await resolveClusterAccess(secrets, 'adopted', 'west', { name: 'west', kubeconfig: { file: file('kubeconfig') }, context: 'west', set: [] });
    const input = { ...RENEW, pairName: 'adopted' };
    const expiry = await mesh.meshIssuerExpiry(input);
    assert.equal(expiry.renewable, false);
    assert.match(expiry.notRenewableReason ?? '', /was adopted \(trust mode "adopt"\): kubeha holds the anchors but not the anchor key/);
    const rv = (await issuerSecret()).metadata.resourceVersion;
    writes.length = 0;
    await assert.rejects(mesh.renewMeshIssuer(input), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'Conflict');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /^cannot renew the Linkerd issuer of west: the trust of mesh pair "adopted" was adopted/);
      assert.match(failureInfo(err)?.hint ?? '', /linkerd upgrade --identity-issuer-certificate-file/);
      return true;
    });
    assert.deepEqual(writes, []);
    assert.equal((await issuerSecret()).metadata.resourceVersion, rv);
  });
});
