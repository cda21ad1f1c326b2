/**
 * Steps of the lab kubeadm test (kubeadm.test.ts) that need only the hosts they are given: kubeadm's
 * preflight on an initialised host, certificate expiry and renewal, the kubelet restarting a static Pod,
 * and a half-done etcd join repaired as kubeha repairs it; with the helpers the test file shares.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderJoinConfig, renderUploadCertsConfig } from '../../../../activities/hosts/kubeadmConfig';
import { alreadySetUp, halfDoneEtcdJoin, rejectedCredential } from '../../../../activities/hosts/kubeadmFailures';
import {
  parseCertificateExpiration,
  parseCertificateKey,
  parsePrintJoinCommand,
  parseToken,
  parseUploadCertsKey,
} from '../../../../activities/hosts/kubeadmOutput';
import { etcdctlCommand } from '../../../../activities/hosts/etcd';
import { kubeadmText } from '../../../support/kubeadmTexts';
import { adminOf, eventually, members } from './cluster';
import type { NamespaceHost, TestLab } from './namespaceHost';

/** The first control plane's API server: the cluster's endpoint. */
export const ENDPOINT = '127.0.30.1:6443';
/** Where kubeha writes kubeadm's configuration on a host. */
export const CONFIG = '/etc/kubernetes/kubeha/config.yaml';

/** Whether a process runs (a zombie waiting for its reaper does not). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A network configuration written by hand (test/lab/kube/network.test.ts has a CNI install it). */
export function installNetworkByHand(host: NamespaceHost): void {
  host.writeFile('/etc/cni/net.d/10-test.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'test', plugins: [{ type: 'bridge' }] }));
}

/** Both streams of a command, for assertion messages and kubeha's failure classifiers. */
export function output(r: { stdout: string; stderr: string }): string {
  return `${r.stdout}\n${r.stderr}`;
}

/** A second `kubeadm init` on an initialised host fails in preflight with kubeadm's texts. */
export async function failsPreflightWhenInitialised(cp1: NamespaceHost): Promise<void> {
  const result = await cp1.kubeadm(['init', '--config', CONFIG, '--upload-certs']);
  assert.equal(result.code, 1);
  assert.ok(result.stderr.includes(`${kubeadmText('preflight-fatal')}\n`), result.stderr);
  assert.ok(result.stderr.includes(kubeadmText('preflight-file-available')));
  assert.ok(result.stderr.includes(kubeadmText('preflight-error-line', 'Port-6443', 'Port 6443 is in use')));
  assert.ok(result.stderr.includes(kubeadmText('preflight-dir-available')));
  assert.ok(result.stderr.includes(kubeadmText('preflight-hint')));
  assert.ok(result.stderr.includes(`error: ${kubeadmText('phase-error', 'preflight')}: preflight checks failed\n`));
  assert.equal(alreadySetUp(output(result)), true);
}

/** `kubeadm certs check-expiration -o json` as kubeha's parser reads it: every certificate, a year left, the CAs ten years. */
export async function checkExpirationParses(cp1: NamespaceHost): Promise<void> {
  const result = await cp1.kubeadm(['certs', 'check-expiration', '-o', 'json']);
  assert.equal(result.code, 0, result.stderr);
  const report = parseCertificateExpiration(result.stdout);
  const names = report.certificates.map((c) => c.name);
  for (const name of [
    'admin.conf',
    'apiserver',
    'apiserver-etcd-client',
    'apiserver-kubelet-client',
    'etcd-server',
    'etcd-peer',
    'front-proxy-client',
    'super-admin.conf',
  ])
    assert.ok(names.includes(name), name);
  const apiserver = report.certificates.find((c) => c.name === 'apiserver')!;
  assert.ok(apiserver.residualSeconds! > 364 * 86400 && apiserver.residualSeconds! <= 365 * 86400, String(apiserver.residualSeconds));
  assert.equal(apiserver.caName, 'ca');
  assert.deepEqual(
    report.certificateAuthorities.map((c) => c.name),
    ['ca', 'etcd-ca', 'front-proxy-ca'],
  );
  assert.ok(report.certificateAuthorities[0].residualSeconds! > 9 * 365 * 86400);
}

/** The kubelet starts a static Pod's process again when it dies, and the API answers again. */
export async function kubeletRestartsStaticPod(cp1: NamespaceHost, timings: Record<string, number>): Promise<void> {
  const record = (): { pid: number; restarts: number } => JSON.parse(readFileSync(`${cp1.labDir}/pods/kube-apiserver.json`, 'utf8'));
  const before = record();
  process.kill(before.pid, 'SIGKILL');
  const started = Date.now();
  const after = await eventually('a new kube-apiserver process', async () => {
    const now = record();
    return now.pid !== before.pid ? now : undefined;
  });
  assert.equal(after.restarts, before.restarts + 1);
  await eventually('the API answering again', async () => ((await adminOf(cp1).request('GET', '/readyz')).status === 200 ? true : undefined), 60_000);
  timings['apiserver-restart'] = Date.now() - started;
}

/** A half-done join whose learner never starts: kubeadm skips the addition, then gives up waiting; kubeha's repair (remove the learner, reset the host) leaves one member. */
export async function halfDoneJoinRepaired(run: {
  lab: TestLab;
  cp1: NamespaceHost;
  cp2: NamespaceHost;
  token: string;
  caHash: string;
  uploadCerts: () => Promise<string>;
  timed: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}): Promise<void> {
  const { lab, cp1, cp2, token, caHash, uploadCerts, timed } = run;
  const key = await uploadCerts();
  // The earlier attempt's member was removed but the host kept its etcd data: etcd on cp2 runs as the
  // removed member, so the learner announced for cp2's peer URL never starts.
  const old = (await members(cp1)).find((m) => m.name === 'cp2')!;
  // etcd refuses to remove a member that joined moments ago ("unhealthy cluster") until it has been active a few seconds.
  await eventually('the old member removed', async () =>
    (await cp1.run(['sh', '-c', etcdctlCommand(`member remove ${old.id}`)])).code === 0 ? true : undefined,
  );
  const add = await cp1.run(['sh', '-c', etcdctlCommand('member add cp2 --peer-urls=https://127.0.30.2:2380 --learner')]);
  assert.equal(add.code, 0, add.stderr);
  const learner = (await members(cp1)).find((m) => m.isLearner)!;
  lab.writeSettings({ etcdApiCallTimeoutSeconds: 8 });
  cp2.writeFile(
    CONFIG,
    renderJoinConfig({
      kubernetesVersion: 'v1.37.2',
      nodeName: 'cp2',
      apiServerEndpoint: ENDPOINT,
      token,
      caCertHash: caHash,
      controlPlane: { certificateKey: key, advertiseAddress: cp2.address },
    }),
  );
  const stuck = await timed('join-learner-never-starts', () => cp2.kubeadm(['join', '--config', CONFIG, '--ignore-preflight-errors=all']));
  lab.writeSettings({ etcdApiCallTimeoutSeconds: undefined });
  assert.equal(stuck.code, 1);
  const expected = `${kubeadmText('phase-error', 'etcd-join')}: ${kubeadmText('etcd-join-manifest')}: ${kubeadmText('etcd-member-not-started', learner.id)}`;
  assert.ok(stuck.stderr.includes(expected), stuck.stderr);
  assert.ok(stuck.stdout.includes('[etcd] Announced new etcd member joining to the existing etcd cluster'));
  assert.doesNotMatch(output(stuck), /member already exists|Peer URLs already exists/);
  assert.equal(halfDoneEtcdJoin(output(stuck)), true);
  assert.equal(rejectedCredential(output(stuck)), undefined);
  // kubeha's repair: the stale learner leaves (it does not vote: quorum holds), the host is reset.
  const repaired = await cp1.run(['sh', '-c', etcdctlCommand(`member remove ${learner.id}`)]);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.equal((await cp2.kubeadm(['reset', '-f'])).code, 0);
  await adminOf(cp1).remove('/api/v1/nodes/cp2');
  assert.deepEqual(
    (await members(cp1)).map((m) => m.name),
    ['cp1'],
  );
}

/** `kubeadm certs renew all` re-signs every leaf certificate with the same names; the renewed admin.conf still works. */
export async function renewAllKeepsNames(cp1: NamespaceHost): Promise<void> {
  const before = parseCertificateExpiration((await cp1.kubeadm(['certs', 'check-expiration', '-o', 'json'])).stdout);
  const oldCert = cp1.readFile('/etc/kubernetes/pki/apiserver.crt')!;
  const result = await cp1.kubeadm(['certs', 'renew', 'all']);
  assert.equal(result.code, 0, output(result));
  assert.ok(result.stdout.includes('certificate for serving the Kubernetes API renewed'));
  assert.ok(
    result.stdout.includes(
      'Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.',
    ),
  );
  const newCert = cp1.readFile('/etc/kubernetes/pki/apiserver.crt')!;
  assert.notEqual(newCert, oldCert);
  const { X509Certificate } = await import('node:crypto');
  assert.equal(new X509Certificate(newCert).subjectAltName, new X509Certificate(oldCert).subjectAltName);
  const after = parseCertificateExpiration((await cp1.kubeadm(['certs', 'check-expiration', '-o', 'json'])).stdout);
  assert.deepEqual(
    after.certificates.map((c) => c.name),
    before.certificates.map((c) => c.name),
  );
  // The renewed admin.conf still works against the running API server.
  assert.equal((await adminOf(cp1).request('GET', '/readyz')).status, 200);
}

/** What a join may change from the run's defaults (another token, CA pin or certificate key; a worker). */
export interface JoinOptions {
  controlPlane: boolean;
  key?: string;
  joinToken?: string;
  hash?: string;
}

/** kubeha's join: its JoinConfiguration (from the run's credentials and `options`) in a file, `kubeadm join --config`. */
export function joinWithConfig(host: NamespaceHost, credentials: { token: string; caHash: string; certificateKey: string }, options: JoinOptions) {
  host.writeFile(
    CONFIG,
    renderJoinConfig({
      kubernetesVersion: 'v1.37.2',
      nodeName: host.name,
      apiServerEndpoint: ENDPOINT,
      token: options.joinToken ?? credentials.token,
      caCertHash: options.hash ?? credentials.caHash,
      controlPlane: options.controlPlane ? { certificateKey: options.key ?? credentials.certificateKey, advertiseAddress: host.address } : undefined,
    }),
  );
  return host.kubeadm(['join', '--config', CONFIG]);
}

/** Uploads the certificates again under a new key (kubeha's uploadCertificates), returns the key. */
export async function uploadCertsAgain(cp1: NamespaceHost): Promise<string> {
  const cm = await adminOf(cp1).get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
  const key = parseCertificateKey((await cp1.kubeadm(['certs', 'certificate-key'])).stdout);
  cp1.writeFile(
    CONFIG,
    renderUploadCertsConfig({ clusterConfiguration: (cm.data as Record<string, string>).ClusterConfiguration, certificateKey: key, nodeName: 'cp1' }),
  );
  const upload = await cp1.kubeadm(['init', 'phase', 'upload-certs', '--upload-certs', '--config', CONFIG]);
  assert.equal(upload.code, 0, output(upload));
  assert.equal(parseUploadCertsKey(upload.stdout), key);
  return key;
}

/** `kubeadm token generate`, `certs certificate-key` and `token create --print-join-command` print what kubeha parses. */
export async function tokenAndKeyCommandsParse(cp1: NamespaceHost, certificateKey: string, caHash: string): Promise<void> {
  assert.match(parseToken((await cp1.kubeadm(['token', 'generate'])).stdout), /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  assert.match(parseCertificateKey((await cp1.kubeadm(['certs', 'certificate-key'])).stdout), /^[0-9a-f]{64}$/);
  const created = await cp1.kubeadm([
    'token',
    'create',
    '--kubeconfig',
    '/etc/kubernetes/admin.conf',
    '--ttl',
    '24h0m0s',
    '--print-join-command',
    '--certificate-key',
    certificateKey,
  ]);
  assert.equal(created.code, 0, created.stderr);
  const command = parsePrintJoinCommand(created.stdout);
  assert.equal(command.controlPlane, true);
  assert.equal(command.certificateKey, certificateKey);
  assert.deepEqual(command.caCertHashes, [caHash]);
  const id = command.token!.slice(0, 6);
  const info = await eventually(
    'signature of the new token',
    async () => ((await adminOf(cp1).get('/api/v1/namespaces/kube-public/configmaps/cluster-info')).data as Record<string, string>)[`jws-kubeconfig-${id}`],
  );
  assert.ok(info);
  assert.equal((await cp1.kubeadm(['version', '-o', 'short'])).stdout.trim(), 'v1.37.2');
}
