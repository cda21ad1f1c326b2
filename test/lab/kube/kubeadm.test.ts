/**
 * The lab's kubeadm and kubelet on two (then three) namespace hosts: a real etcd + kube-apiserver
 * control plane brought up by `kubeadm init`, a control-plane join that adds a voting etcd member,
 * and kubeadm's failures, each read back with kubeha's own parsers and failure classifiers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { renderInitConfig, renderJoinConfig } from '../../../activities/hosts/kubeadmConfig';
import { caPinMismatch, rejectedCredential } from '../../../activities/hosts/kubeadmFailures';
import { parseInitOutput } from '../../../activities/hosts/kubeadmOutput';
import { caCertHash, checkUploadedCerts } from '../../../activities/hosts/pki';
import { etcdctlCommand } from '../../../activities/hosts/etcd';
import { kubeadmText } from '../../support/kubeadmTexts';
import { adminOf, eventually, members, nodeReady } from './support/cluster';
import { type NamespaceHost, TestLab } from './support/namespaceHost';
import {
  checkExpirationParses,
  CONFIG,
  ENDPOINT,
  failsPreflightWhenInitialised,
  halfDoneJoinRepaired,
  installNetworkByHand,
  joinWithConfig,
  type JoinOptions,
  tokenAndKeyCommandsParse,
  uploadCertsAgain,
  kubeletRestartsStaticPod,
  output,
  renewAllKeepsNames,
  running,
} from './support/kubeadmSteps';

describe('lab kubeadm and kubelet', { timeout: 15 * 60_000 }, () => {
  let lab: TestLab;
  let cp1: NamespaceHost;
  let cp2: NamespaceHost;
  let worker: NamespaceHost;
  const token = 'abcdef.0123456789abcdef';
  const certificateKey = randomBytes(32).toString('hex');
  let initOut = '';
  let caHash = '';
  const timings: Record<string, number> = {};

  async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      timings[name] = Date.now() - started;
    }
  }

  /** kubeha's join: its JoinConfiguration in a 0600 file, `kubeadm join --config`. */
  const join = (host: NamespaceHost, options: JoinOptions) => joinWithConfig(host, { token, caHash, certificateKey }, options);

  before(async () => {
    lab = TestLab.create({ discoveryTimeoutSeconds: 3 });
    cp1 = await lab.addHost('cp1', '127.0.30.1');
    cp2 = await lab.addHost('cp2', '127.0.30.2');
    worker = await lab.addHost('worker1', '127.0.30.3');
  });

  after(async () => {
    const pids = lab ? lab.hosts.flatMap((h) => h.recordedPids()) : [];
    await lab?.stop();
    await new Promise((r) => setTimeout(r, 500));
    const left = pids.filter(running);
    process.stderr.write(`lab kube timings (ms): ${JSON.stringify(timings)}\n`);
    assert.deepEqual(left, [], 'every kubelet and static Pod process is stopped');
  });

  test('kubeadm init brings up real etcd and kube-apiserver and prints join commands kubeha parses', async () => {
    cp1.writeFile(
      CONFIG,
      renderInitConfig({
        clusterName: 'west',
        nodeName: 'cp1',
        advertiseAddress: cp1.address,
        controlPlaneEndpoint: ENDPOINT,
        kubernetesVersion: '1.37.2',
        podSubnet: '10.244.0.0/16',
        serviceSubnet: '10.96.0.0/12',
        token,
        certificateKey,
      }),
    );
    const result = await timed('init', () => cp1.kubeadm(['init', '--config', CONFIG, '--upload-certs']));
    initOut = result.stdout;
    assert.equal(result.code, 0, output(result));
    const parsed = parseInitOutput(result.stdout);
    assert.equal(parsed.worker.token, token);
    assert.equal(parsed.worker.endpoint, ENDPOINT);
    assert.equal(parsed.controlPlane?.certificateKey, certificateKey);
    assert.ok(result.stdout.includes(`[upload-certs] Using certificate key:\n${certificateKey}\n`));
    caHash = parsed.caCertHash;
    assert.equal(caHash, caCertHash(cp1.readFile('/etc/kubernetes/pki/ca.crt')!));

    const admin = adminOf(cp1);
    const readyz = await admin.request('GET', '/readyz');
    assert.equal(readyz.status, 200);
    const cm = await admin.get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
    assert.match((cm.data as Record<string, string>).ClusterConfiguration, /controlPlaneEndpoint: 127\.0\.30\.1:6443/);
    const info = await admin.get('/api/v1/namespaces/kube-public/configmaps/cluster-info');
    assert.ok((info.data as Record<string, string>)['jws-kubeconfig-abcdef'], 'cluster-info carries the token signature');
    const secret = await admin.get('/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef');
    assert.equal(secret.type, 'bootstrap.kubernetes.io/token');
    // No CNI yet: the kubelet registers the Node NotReady, in containerd's words.
    const notReady = await eventually('Node cp1 registered', async () => (await nodeReady(admin, 'cp1')).node);
    const condition = (notReady.status as { conditions: { type: string; status: string; message?: string }[] }).conditions.find((c) => c.type === 'Ready');
    assert.equal(condition?.status, 'False');
    assert.match(condition?.message ?? '', /NetworkPluginNotReady/);
    for (const host of [cp1, cp2, worker]) installNetworkByHand(host);
    const { ready, node } = await eventually('Node cp1 Ready', async () =>
      (await nodeReady(admin, 'cp1')).ready === 'True' ? nodeReady(admin, 'cp1') : undefined,
    );
    assert.equal(ready, 'True');
    assert.equal(node?.metadata?.labels?.['node-role.kubernetes.io/control-plane'], '');
    // The apiserver adds the not-ready taint at registration; the lab's node lifecycle emulation lifts it once Ready.
    await eventually('only the control-plane taint', async () => {
      const taints = ((await admin.get('/api/v1/nodes/cp1')).spec as { taints?: unknown[] }).taints;
      return JSON.stringify(taints) === JSON.stringify([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]) ? true : undefined;
    });
  });

  test("the uploaded certificates open with the printed key, as kubeha's pki.ts decrypts them", async () => {
    const secret = await adminOf(cp1).request('GET', '/api/v1/namespaces/kube-system/secrets/kubeadm-certs');
    const json = JSON.stringify(secret.body);
    const check = checkUploadedCerts(json, certificateKey);
    assert.equal(check.opens, true);
    assert.match(check.ownerTokenId ?? '', /^[a-z0-9]{6}$/);
    assert.equal(checkUploadedCerts(json, randomBytes(32).toString('hex')).opens, false);
    const keys = Object.keys((secret.body as { data: Record<string, string> }).data).sort();
    assert.deepEqual(keys, ['ca.crt', 'ca.key', 'etcd-ca.crt', 'etcd-ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
  });

  test('init on an initialised host fails in preflight like kubeadm', () => failsPreflightWhenInitialised(cp1));

  test("certs check-expiration -o json parses with kubeha's parser", () => checkExpirationParses(cp1));

  test('token and key commands print what kubeha parses', () => tokenAndKeyCommandsParse(cp1, certificateKey, caHash));

  test("a join with an unknown token fails discovery with kubeadm's text", async () => {
    const result = await timed('join-bad-token', () => join(cp2, { controlPlane: true, joinToken: 'zzzzzz.0123456789abcdef' }));
    assert.equal(result.code, 1);
    assert.ok(
      result.stderr.includes(
        `${kubeadmText('phase-error', 'preflight')}: ${kubeadmText('discovery-identity')}: ${kubeadmText('jws-signature-missing', 'zzzzzz')}`,
      ),
      result.stderr,
    );
    assert.equal(rejectedCredential(output(result)), 'token');
  });

  test('a join with another CA pin fails: the CA is not pinned', async () => {
    const result = await join(cp2, { controlPlane: true, hash: `sha256:${'0'.repeat(64)}` });
    assert.equal(result.code, 1);
    assert.ok(result.stderr.includes(`${kubeadmText('cluster-ca-invalid')}: none of the public keys "sha256:`), result.stderr);
    assert.match(result.stderr, /none of the public keys "sha256:[0-9a-f]{64}" are pinned/);
    assert.equal(caPinMismatch(output(result)), true);
  });

  test('a control-plane join with a wrong certificate key fails: cipher: message authentication failed', async () => {
    const result = await join(cp2, { controlPlane: true, key: randomBytes(32).toString('hex') });
    assert.equal(result.code, 1);
    const expected = [
      kubeadmText('phase-error', 'control-plane-prepare/download-certs'),
      kubeadmText('download-certs'),
      kubeadmText('certs-data-decode'),
      kubeadmText('gcm-open'),
    ].join(': ');
    assert.ok(result.stderr.includes(expected), result.stderr);
    assert.equal(rejectedCredential(output(result)), 'certificate-key');
    assert.equal((await cp2.kubeadm(['reset', '-f'])).code, 0);
  });

  test('a control-plane join adds a voting etcd member and a Ready control-plane Node', async () => {
    const result = await timed('join-control-plane', () => join(cp2, { controlPlane: true }));
    assert.equal(result.code, 0, output(result));
    assert.ok(result.stdout.includes('This node has joined the cluster and a new control plane instance was created:'));
    const list = await members(cp2);
    assert.deepEqual(list.map((m) => [m.name, m.isLearner]).sort(), [
      ['cp1', false],
      ['cp2', false],
    ]);
    assert.deepEqual(list.find((m) => m.name === 'cp2')?.clientUrls, ['https://127.0.30.2:2379']);
    const admin = adminOf(cp2);
    assert.equal((await admin.request('GET', '/readyz')).status, 200);
    await eventually('Node cp2 Ready', async () => ((await nodeReady(admin, 'cp2')).ready === 'True' ? true : undefined));
    const node = await admin.get('/api/v1/nodes/cp2');
    assert.equal(node.metadata?.labels?.['node-role.kubernetes.io/control-plane'], '');
  });

  test('the kubelet restarts a static Pod process that dies', () => kubeletRestartsStaticPod(cp1, timings));

  test('a second join of a host whose member already runs skips the member addition, as kubeadm does, and goes through', async () => {
    // Past preflight (its ports and files are taken), the join reaches etcd and finds this host's started member.
    cp2.writeFile(
      CONFIG,
      renderJoinConfig({
        kubernetesVersion: 'v1.37.2',
        nodeName: 'cp2',
        apiServerEndpoint: ENDPOINT,
        token,
        caCertHash: caHash,
        controlPlane: { certificateKey, advertiseAddress: cp2.address },
      }),
    );
    const again = await cp2.kubeadm(['join', '--config', CONFIG, '--ignore-preflight-errors=all', '--v=5']);
    assert.equal(again.code, 0, output(again));
    // kubeadm says it skipped the addition only at --v=5, and never that the member "already exists" as an error.
    assert.ok(again.stderr.includes(kubeadmText('etcd-skip-member-add', 'https://127.0.30.2:2380')), again.stderr);
    assert.doesNotMatch(output(again), /error|Peer URLs already exists/);
    assert.ok(again.stdout.includes(kubeadmText('etcd-waiting-for-member', '40s')));
    assert.deepEqual((await members(cp1)).map((m) => [m.name, m.isLearner]).sort(), [
      ['cp1', false],
      ['cp2', false],
    ]);
  });

  test("reset -f removes the host's etcd member, its files and its processes", async () => {
    // kubelet, etcd and kube-apiserver (the previous test restarted the kubelet, which adopts the pods again).
    const pids = await eventually(
      'three recorded processes on cp2',
      async () => {
        const found = cp2.recordedPids().filter(running);
        return found.length >= 3 ? found : undefined;
      },
      10_000,
    );
    const result = await timed('reset', () => cp2.kubeadm(['reset', '-f']));
    assert.equal(result.code, 0, output(result));
    assert.ok(result.stdout.includes('[reset] Deleting contents of directories: [/etc/kubernetes/manifests /var/lib/kubelet /etc/kubernetes/pki]'));
    assert.deepEqual(
      (await members(cp1)).map((m) => m.name),
      ['cp1'],
    );
    for (const file of ['/etc/kubernetes/admin.conf', '/etc/kubernetes/kubelet.conf', '/etc/kubernetes/manifests/etcd.yaml', '/etc/kubernetes/pki/ca.crt'])
      assert.equal(cp2.readFile(file), undefined, file);
    await eventually('every process of cp2 gone', async () => (pids.every((pid) => !running(pid)) ? true : undefined), 5000);
    await adminOf(cp1).remove('/api/v1/nodes/cp2');
  });

  /** Uploads the certificates again under a new key (kubeha's uploadCertificates), returns the key. */
  const uploadCerts = () => uploadCertsAgain(cp1);

  test('uploaded certificates older than the lab TTL are gone for a join', async () => {
    lab.writeSettings({ uploadedCertsTtlSeconds: 2 });
    const key = await uploadCerts();
    await new Promise((r) => setTimeout(r, 2500));
    const expired = await join(cp2, { controlPlane: true, key });
    assert.equal(expired.code, 1);
    assert.ok(expired.stderr.includes(kubeadmText('certs-secret-missing', 'kubeadm-certs', 'kube-system')), expired.stderr);
    assert.equal(rejectedCredential(output(expired)), 'certificate-key');
    assert.equal((await cp2.kubeadm(['reset', '-f'])).code, 0);
    lab.writeSettings({ uploadedCertsTtlSeconds: 7200 });
  });

  test('after member removal and reset, a re-join takes over an unstarted learner left by a half-done join', async () => {
    const key = await uploadCerts();
    // A half-done join: the learner was announced but its etcd never started (learners do not vote: quorum holds).
    const add = await cp1.run(['sh', '-c', etcdctlCommand('member add cp2 --peer-urls=https://127.0.30.2:2380 --learner')]);
    assert.equal(add.code, 0, add.stderr);
    const again = await timed('rejoin-control-plane', () => join(cp2, { controlPlane: true, key }));
    assert.equal(again.code, 0, output(again));
    // kubeadm skips the addition silently below --v=5.
    assert.ok(!again.stderr.includes('Skipping etcd member addition'), again.stderr);
    assert.deepEqual((await members(cp1)).map((m) => [m.name, m.isLearner]).sort(), [
      ['cp1', false],
      ['cp2', false],
    ]);
  });

  test('a half-done join whose learner never starts: kubeadm skips the addition, then gives up waiting for it; kubeha repairs it', () =>
    halfDoneJoinRepaired({ lab, cp1, cp2, token, caHash, uploadCerts, timed }));

  test('certs renew all re-signs every leaf certificate with the same names', () => renewAllKeepsNames(cp1));

  test('a worker joins through TLS bootstrap signed by the lab controller and becomes Ready', async () => {
    const result = await timed('join-worker', () => join(worker, { controlPlane: false }));
    assert.equal(result.code, 0, output(result));
    assert.ok(result.stdout.includes('This node has joined the cluster:'));
    const admin = adminOf(cp1);
    await eventually('Node worker1 Ready', async () => ((await nodeReady(admin, 'worker1')).ready === 'True' ? true : undefined));
    const node = await admin.get('/api/v1/nodes/worker1');
    assert.equal(node.metadata?.labels?.['node-role.kubernetes.io/control-plane'], undefined);
    assert.equal(initOut.includes('Your Kubernetes control-plane has initialized successfully!'), true);
  });
});
