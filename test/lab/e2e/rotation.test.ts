/**
 * RotateCertificateKey on the lab, end to end, with kubeha's real worker (a process of its own):
 * - after a bootstrap of west with the spare held back, a rotation uploads the certificates under a
 *   new key: Secret kube-system/kubeadm-certs changes (read through the API and opened here with
 *   AES-GCM), the key record in the worker's store carries the new key, upload time and expiry, and
 *   the lab's kubeadm rejects the old key in a control-plane join of the spare run by hand;
 * - the spare's control-plane join by kubeha afterwards uses the rotated key and succeeds, with no
 *   new upload;
 * - with the first control plane stopped, a rotation passes it over with its reason and uploads on
 *   the next one;
 * - after all that, no certificate key, bootstrap token, private key or kubeconfig credential is in
 *   any run's history (`temporal workflow show`), in the worker's output or in any host's
 *   commands.log, raw or base64; values known to be there are found by the same scan.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { rotationSecretNames, type CertificateKeyRecord } from '../../../activities/rotation/upload';
import { FileSecretStore } from '../../../activities/secrets/store';
import { createSshShell, FileKnownHostsStore } from '../../../activities/ssh';
import type { RemoteShell } from '../../../activities/ssh/types';
import type { BootstrapStackedEtcdInput } from '../../../common/inputs/bootstrapStackedEtcd';
import type { RotateCertificateKeyInput } from '../../../common/inputs/rotateCertificateKey';
import type { Progress } from '../../../common/progress';
import { hostSchema, type HostSpec } from '../../../common/inputs/shared';
import { readCommandLog } from '../../../lab/hosts';
import { labHostPaths } from '../../../lab/hosts/layout';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { labFault, type LabUpResult } from '../../../lab/orchestrator';
import { kubehaDataConverter } from '../../../lib/codec/dataConverter';
import { startTestTemporal } from '../../support/temporal';
import {
  caCertHash,
  clusterBootstrapTokens,
  controlPlaneJoinConfig,
  joinWithConfig,
  kubeadmCertsSecret,
  type KubeadmCertsSecret,
  openUploadedEntry,
  startRotationWorker,
  type WorkerProcess,
  explained,
  rotationTopology,
} from './rotationSupport';
import { etcdMembers, kubeadmRuns, startTestLab, type TestLab } from './support';
import { scanEverySource } from './rotationScan';
import { apiReadyWithin, assertPassedOver, runRotation } from './rotationChecks';

const TASK_QUEUE = 'kubeha-lab-e2e-rotation';
const HOSTS_LABEL = `rotation-e2e-${process.pid}`;
/** moto derives the NLB's DNS name from its name, and the lab maps it in /etc/hosts: a name of this lab's own. */
const LOAD_BALANCER_NAME = `kh-west-rotation-${process.pid}`.slice(0, 32);
const UPLOAD_CERTS = /kubeadm init phase upload-certs/;

describe('RotateCertificateKey on the lab; no secret in history, worker output or command lines', { timeout: 25 * 60_000 }, () => {
  let testLab: TestLab | undefined;
  let dataDir: string;
  let lab: LabUpResult;
  let env: TestWorkflowEnvironment;
  /** A client with the worker's data converter (payloads are encrypted). */
  let client: Client;
  let worker: WorkerProcess | undefined;
  let workerLog: string;
  let shell: RemoteShell;
  let store: FileSecretStore;
  let input: BootstrapStackedEtcdInput;
  let kube: KubeClient;
  let kubeconfigSecret: string;
  /** Every certificate key and bootstrap token seen during the run, for the scan. */
  const certificateKeys = new Map<string, string>();
  const tokens = new Map<string, string>();
  /** kubeadm-certs and the key right after the first rotation. */
  let rotated: { secret: KubeadmCertsSecret; key: string; finishedAt: number; uploads: number } | undefined;
  const figures: Record<string, number | string> = {};
  const suiteStarted = Date.now();

  const cps = () => input.hosts.filter((h) => h.role === 'control-plane');
  const spare = () => input.hosts.find((h) => h.role === 'spare-control-plane')!;
  /** A host of the input with its defaults filled in, for the test's own SSH commands. */
  const spec = (host: BootstrapStackedEtcdInput['hosts'][number]): HostSpec => hostSchema.parse(host);
  const names = () => rotationSecretNames(input.clusterName);
  const hostCa = (host: string) => readFileSync(path.join(labHostPaths(lab.paths.labDir, host).rootDir, 'etc', 'kubernetes', 'pki', 'ca.crt'), 'utf8');
  const uploadsSoFar = () =>
    input.hosts.reduce((n, h) => n + readCommandLog(labHostPaths(lab.paths.labDir, h.name).commandsLog).filter((e) => UPLOAD_CERTS.test(e.command)).length, 0);

  async function remember(when: string): Promise<void> {
    if (await store.has(names().certificateKey)) certificateKeys.set((await store.get(names().certificateKey)).trim(), when);
    const token = `clusters/${input.clusterName}/bootstrap-token`;
    if (await store.has(token)) tokens.set((await store.get(token)).trim(), `secret store, ${when}`);
    for (const t of await clusterBootstrapTokens(kube).catch(() => [])) tokens.set(t, `cluster, ${when}`);
  }

  before(async () => {
    testLab = await startTestLab('rotation', rotationTopology(HOSTS_LABEL));
    ({ dataDir, lab } = testLab);
    figures.labUpMs = testLab.upMs;
    workerLog = path.join(dataDir, 'worker-output.log');
    const labInput = JSON.parse(readFileSync(lab.state.inputs.west, 'utf8')) as BootstrapStackedEtcdInput;
    input = { ...labInput, loadBalancer: { ...labInput.loadBalancer, name: LOAD_BALANCER_NAME }, onFailure: 'fail' };
    env = await startTestTemporal();
    // Builds (and on first use writes) the codec keys under dataDir before the worker process reads them.
    client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: kubehaDataConverter().dataConverter });
    shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dataDir, 'known_hosts.json')) });
    store = new FileSecretStore(path.join(dataDir, 'secrets'));
    worker = await startRotationWorker(
      {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        KUBEHA_TASK_QUEUE: TASK_QUEUE,
        KUBEHA_DATA_DIR: dataDir,
      },
      workerLog,
    );
  });

  after(async () => {
    await worker?.stop();
    await shell?.close();
    await env?.teardown();
    await testLab?.close();
    figures.wholeFileMs = Date.now() - suiteStarted;
    process.stdout.write(`# lab rotation e2e figures: ${JSON.stringify(figures)}\n`);
  });

  async function bootstrap(workflowId: string, steps: Pick<BootstrapStackedEtcdInput, 'onlySteps' | 'skipSteps'>) {
    const handle = await client.workflow.start('BootstrapStackedEtcd', { taskQueue: TASK_QUEUE, workflowId, args: [{ ...input, ...steps }] });
    const result = (await handle.result().catch(explained)) as { kubeconfigSecret?: string; etcd: { members: number } };
    return { result, progress: await handle.query<Progress>('progress') };
  }

  const rotate = (workflowId: string, extra: Partial<RotateCertificateKeyInput> = {}) =>
    runRotation(client, TASK_QUEUE, { clusterName: input.clusterName, hosts: input.hosts, kubeconfigSecret }, workflowId, extra);

  test('bootstrap of west with the spare held back: 2 control planes, the spare not yet a member', async () => {
    const started = Date.now();
    const { result, progress } = await bootstrap('rotation-bootstrap-held-back', { skipSteps: ['join-spare', 'verify'] });
    figures.bootstrapMs = Date.now() - started;
    assert.equal(progress.phase, 'succeeded');
    assert.ok(result.kubeconfigSecret, 'the run named the admin kubeconfig secret');
    kubeconfigSecret = result.kubeconfigSecret;
    kube = new KubeClient(parseKubeconfig(await store.get(kubeconfigSecret)));
    const members = await etcdMembers(lab.paths.labDir, cps()[0]);
    assert.deepEqual(
      members.map((m) => m.name).sort(),
      cps()
        .map((h) => h.name)
        .sort(),
    );
    assert.equal(progress.steps.find((s) => s.step === 'join-spare')?.state, 'skipped');
    await remember('after the bootstrap');
    assert.equal(certificateKeys.size, 1, 'the bootstrap stored a certificate key');
  });

  test('RotateCertificateKey uploads under a new key: kubeadm-certs changes, the key record is updated, only the new key opens it', async () => {
    const oldKey = (await store.get(names().certificateKey)).trim();
    const before = await kubeadmCertsSecret(kube);
    assert.ok(before, 'the bootstrap uploaded the certificates');
    assert.doesNotThrow(() => openUploadedEntry(before, 'ca.crt', oldKey), 'the bootstrap key opens the first upload');

    const started = Date.now();
    const { result, progress } = await rotate('rotation-1');
    const finishedAt = Date.now();
    figures.rotationMs = finishedAt - started;
    assert.equal(progress.phase, 'succeeded');
    assert.equal(result.host, cps()[0].name, 'the first control plane answers, so it uploads');
    assert.deepEqual(result.skippedHosts, []);
    assert.equal(result.key?.rotated, true);
    assert.equal(result.key?.previousKeyRejected, true, 'the workflow verified the previous key rejected');
    const step = progress.steps.find((s) => s.step === 'rotate-key');
    assert.equal(step?.state, 'done');
    assert.match(step?.message ?? '', /^new key uploaded at .*; previous key verified rejected$/);
    assert.deepEqual(result.renewedHosts, [], 'the lab certificates live a year: nothing to renew');

    // The Secret, read through the API: replaced, and sealed under the new key only.
    const after = await kubeadmCertsSecret(kube);
    assert.ok(after, 'kubeadm-certs exists after the rotation');
    assert.notEqual(after.resourceVersion, before.resourceVersion, 'kubeadm-certs was written again');
    assert.notEqual(after.data['ca.crt'], before.data['ca.crt'], 'its encrypted content changed');
    const newKey = (await store.get(names().certificateKey)).trim();
    // Keys are compared with assert.ok: a failed equal would print them.
    assert.ok(/^[0-9a-f]{64}$/.test(newKey), 'the stored key is 32 bytes of hex');
    assert.ok(newKey !== oldKey, 'the stored key changed');
    assert.equal(openUploadedEntry(after, 'ca.crt', newKey).toString('utf8'), hostCa(cps()[0].name), 'the new key opens the uploaded CA certificate');
    assert.throws(() => openUploadedEntry(after, 'ca.crt', oldKey), /unable to authenticate|auth/i, 'the old key no longer opens it');

    // The record other workflows read: the new key, when it was uploaded and when the upload lapses.
    const record = JSON.parse(await store.get(names().record)) as CertificateKeyRecord;
    assert.ok(record.certificateKey === newKey, 'the record holds the new key');
    assert.equal(record.host, cps()[0].name);
    const uploadedAt = Date.parse(record.uploadedAt);
    assert.ok(uploadedAt >= started - 1000 && uploadedAt <= finishedAt, `uploadedAt ${record.uploadedAt} lies within the run`);
    const lifetime = Date.parse(record.expiresAt) - uploadedAt;
    assert.ok(Math.abs(lifetime - 2 * 3600_000) < 60_000, `the upload lives 2 h (record: ${record.uploadedAt} to ${record.expiresAt})`);
    assert.equal(result.key?.uploadedAt, record.uploadedAt);
    assert.equal(result.key?.expiresAt, record.expiresAt);
    const labExpiry = after.annotations['lab.kubeha.io/expires-at'];
    if (labExpiry)
      assert.ok(
        Math.abs(Date.parse(labExpiry) - Date.parse(record.expiresAt)) < 60_000,
        `the record's expiry ${record.expiresAt} matches the cluster's ${labExpiry}`,
      );

    certificateKeys.set(newKey, 'first rotation');
    await remember('after the first rotation');
    rotated = { secret: after, key: newKey, finishedAt, uploads: uploadsSoFar() };
  });

  test("the lab's kubeadm rejects the old key: a control-plane join of the spare with it fails with cipher: message authentication failed", async () => {
    assert.ok(rotated, 'the rotation ran');
    const oldKey = [...certificateKeys.keys()][0];
    assert.ok(oldKey !== rotated.key, 'the bootstrap key is not the rotated one');
    const status = (await (await fetch(`${lab.state.aws!.endpoint}/kubeha-lab/status`)).json()) as { loadBalancers: { dnsName: string }[] };
    const config = controlPlaneJoinConfig({
      host: spec(spare()),
      endpoint: `${status.loadBalancers[0].dnsName}:6443`,
      token: (await store.get(`clusters/${input.clusterName}/bootstrap-token`)).trim(),
      caCertHash: caCertHash(hostCa(cps()[0].name)),
      certificateKey: oldKey,
    });
    const { exitCode, output } = await joinWithConfig(shell, spec(spare()), config);
    assert.match(output, /config mode 600/, 'the key travelled in a 0600 file');
    assert.notEqual(exitCode, 0, `the join with the old key succeeded: ${output.slice(-1500)}`);
    assert.match(output, /cipher: message authentication failed/);
    assert.match(output, /\[preflight\]/, 'discovery with the token and the CA pin worked: only the key was refused');
    // Nothing of the spare joined.
    const members = await etcdMembers(lab.paths.labDir, cps()[0]);
    assert.ok(!members.some((m) => m.name === spare().name), 'the spare is no etcd member');
  });

  test('a control-plane join after the rotation uses the rotated key and succeeds, with no new upload', async () => {
    assert.ok(rotated, 'the rotation ran');
    const started = Date.now();
    const { result, progress } = await bootstrap('rotation-bootstrap-spare', { onlySteps: ['join-spare', 'verify'] });
    figures.spareJoinMs = Date.now() - started;
    assert.equal(progress.phase, 'succeeded');
    assert.equal(result.etcd.members, 3);
    const host = progress.steps.find((s) => s.step === 'join-spare')?.hosts.find((h) => h.host === spare().name);
    assert.equal(host?.state, 'done');
    assert.equal(progress.steps.find((s) => s.step === 'verify')?.state, 'done');

    const members = await etcdMembers(lab.paths.labDir, cps()[0]);
    assert.deepEqual(members.map((m) => m.name).sort(), [...cps(), spare()].map((h) => h.name).sort());
    assert.ok(
      members.every((m) => !m.isLearner),
      `learners left: ${JSON.stringify(members)}`,
    );

    // The join read the rotated key: it still opens kubeadm-certs, which nobody uploaded again, and
    // kubeha ran exactly one kubeadm join on the spare (a rejected key would have meant a refresh and a second join).
    assert.ok((await store.get(names().certificateKey)).trim() === rotated.key, 'the stored key is still the rotated one');
    const now = await kubeadmCertsSecret(kube);
    assert.equal(now?.resourceVersion, rotated.secret.resourceVersion, 'kubeadm-certs was not uploaded again');
    assert.equal(uploadsSoFar(), rotated.uploads, 'no upload-certs ran after the rotation');
    assert.equal(kubeadmRuns(lab.paths.labDir, spare().name, 'join'), 2, 'the join by hand and exactly one join by kubeha');
    await remember('after the spare joined');
  });

  test('with the first control plane stopped, the rotation passes it over with its reason and uploads on the next', async () => {
    assert.ok(rotated, 'the first rotation ran');
    const [first, second] = cps();
    await labFault('host-stop', [first.name], dataDir);
    try {
      // When the stopped host led etcd, the survivors elect a new leader first; until then the next
      // control plane's API server is not ready and would be passed over too. Start once it has answered
      // for 5 s in a row (at most 30 s: the rotation itself then reports whatever it finds).
      await apiReadyWithin(kube.withServer(`https://${second.address}:6443`), 30_000, 5000);
      const started = Date.now();
      // 0: rotate although a key was uploaded minutes ago.
      const { result, progress } = await rotate('rotation-2-first-down', { keepKeyUploadedWithinMinutes: 0 });
      figures.rotationFirstDownMs = Date.now() - started;
      figures.skipReason = assertPassedOver(result, progress, first.name, second.name);

      assert.equal(result.key?.rotated, true);
      assert.equal(result.key?.host, second.name);
      const key = (await store.get(names().certificateKey)).trim();
      assert.ok(key !== rotated.key, 'the stored key changed');
      const record = JSON.parse(await store.get(names().record)) as CertificateKeyRecord;
      assert.ok(record.certificateKey === key, 'the record holds the new key');
      assert.equal(record.host, second.name);
      const secret = await kubeadmCertsSecret(kube);
      assert.ok(secret);
      assert.equal(openUploadedEntry(secret, 'ca.crt', key).toString('utf8'), hostCa(second.name), 'the new key opens the upload');
      assert.throws(() => openUploadedEntry(secret, 'ca.crt', rotated!.key), /unable to authenticate|auth/i, 'the previous key does not');
      certificateKeys.set(key, 'second rotation');
      await remember('after the second rotation');
    } finally {
      await labFault('host-start', [first.name], dataDir);
    }
  });

  test('no certificate key, bootstrap token, private key or kubeconfig credential in any history, the worker output or any command log', async () => {
    await remember('at the scan');
    await scanEverySource({
      input,
      labDir: lab.paths.labDir,
      certificateKeys,
      tokens,
      kubeconfig: await store.get(kubeconfigSecret),
      client,
      target: { address: env.address, namespace: env.namespace },
      worker: worker!,
      workerLog,
      figures,
    });
  });
});
