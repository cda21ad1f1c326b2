/**
 * The host activities' DECISION LOGIC, against an in-memory RemoteShell that records commands
 * (test/hosts/fakeHostShell.ts). Proves: init runs at most once; secrets never appear in a
 * command line (only in files written 0600 and in stdin); a half-done join is repaired with
 * member remove + reset before joining; rejected credentials become CredentialExpired with the
 * right `refresh`. Running against real hosts is the end-to-end suite's job.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { createHostActivities } from '../../activities/hosts';
import { caCertHash } from '../../activities/hosts/pki';
import type { HostSpec } from '../../common/inputs/shared';
import { failureInfo } from '../../common/errors';
import type { HostActivities, JoinCredentials } from '../../activities/types';
import { FakeHostShell, makeCaPem, MemorySecretStore } from './fakeHostShell';

const ssh = { user: 'root', port: 22, privateKey: { file: '/dev/null' }, trustOnFirstUse: true, connectTimeoutSeconds: 5 };
const host = (name: string, address: string, role: HostSpec['role']): HostSpec => ({ name, address, role, ssh });
const cpA = host('cp-a', '10.20.1.11', 'control-plane');
const cpB = host('cp-b', '10.20.2.12', 'control-plane');
const worker = host('w-1', '10.20.3.13', 'worker');
const T0 = new Date('2025-02-03T10:00:00Z');
const initInput = {
  clusterName: 'lab',
  host: cpA,
  controlPlaneEndpoint: 'lb.example:6443',
  kubernetesVersion: '1.31.2',
  podCidr: '192.168.0.0/16',
  serviceCidr: '10.96.0.0/12',
};

let caPem: string;
before(() => {
  caPem = makeCaPem();
});

function world(): { shell: FakeHostShell; secrets: MemorySecretStore; hosts: HostActivities; clock: { now: Date } } {
  const clock = { now: T0 };
  const shell = new FakeHostShell(caPem, () => clock.now);
  const secrets = new MemorySecretStore();
  return { shell, secrets, clock, hosts: createHostActivities({ shell, secrets, now: () => clock.now }) };
}

/** No secret the world handed out appears in any command line; every secret-bearing file is 0600. */
function assertNoSecretsOnCommandLines(shell: FakeHostShell): void {
  assert.ok(shell.issuedSecrets.size > 0);
  for (const call of shell.calls) {
    for (const secret of shell.issuedSecrets) assert.ok(!call.command.includes(secret), `secret on the command line: ${call.command}`);
    if (call.kind === 'writeFile' && [...shell.issuedSecrets].some((s) => call.content?.includes(s)))
      assert.equal(call.mode, 0o600, `${call.path} holds a secret`);
  }
}

async function rejection(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${err}`);
    return err;
  }
  assert.fail('expected a failure');
}

async function initialized(): Promise<ReturnType<typeof world> & { join: JoinCredentials }> {
  const w = world();
  const result = await w.hosts.kubeadmInit(initInput);
  return { ...w, join: result.join };
}

describe('kubeadmInit', () => {
  test('a fresh host: one kubeadm init with a 0600 config, credentials stored, expiry from now()', async () => {
    const { shell, secrets, hosts } = world();
    const result = await hosts.kubeadmInit(initInput);
    assert.equal(result.alreadyInitialized, false);
    assert.equal(shell.count(/^kubeadm init --config \/etc\/kubernetes\/kubeha\/init\.yaml --upload-certs /), 1);
    const written = shell.calls.find((c) => c.kind === 'writeFile' && c.path === '/etc/kubernetes/kubeha/init.yaml');
    assert.equal(written?.mode, 0o600);
    assert.ok(!shell.filesOf('cp-a').has('/etc/kubernetes/kubeha/init.yaml'), 'the config with secrets is removed afterwards');
    assert.equal(result.join.caCertHash, caCertHash(caPem));
    assert.equal(result.join.tokenExpiresAt, '2025-02-04T10:00:00.000Z');
    assert.equal(result.join.certificateKeyExpiresAt, '2025-02-03T12:00:00.000Z');
    const token = await secrets.get(result.join.tokenSecret);
    const key = await secrets.get(result.join.certificateKeySecret);
    assert.ok(written?.content?.includes(token) && written.content.includes(key), 'the secrets travel in the file');
    assert.match(await secrets.get(result.kubeconfigSecret), /kind: Config/);
    const initCall = shell.calls.find((c) => c.command.startsWith('kubeadm init --config'));
    assert.deepEqual([...(initCall?.redact ?? [])].sort(), [token, key].sort(), 'kubeadm init output is redacted');
    assertNoSecretsOnCommandLines(shell);
  });

  test('a second call does not run init again and reuses credentials that are still valid', async () => {
    const { shell, hosts, join } = await initialized();
    const again = await hosts.kubeadmInit(initInput);
    assert.equal(again.alreadyInitialized, true);
    assert.equal(shell.count(/^kubeadm init --config/), 1);
    assert.equal(shell.count(/^kubeadm token create/), 0);
    assert.equal(shell.count(/upload-certs/), 1, 'only the --upload-certs of the first init');
    assert.deepEqual(again.join, join);
  });

  test('cluster exists but the secret store lost the credentials: token renewed, upload reported needed, init not rerun', async () => {
    const { shell, secrets, hosts, join } = await initialized();
    secrets.values.clear();
    const again = await hosts.kubeadmInit(initInput);
    assert.equal(again.alreadyInitialized, true);
    assert.equal(shell.count(/^kubeadm init --config/), 1);
    assert.equal(shell.count(/^kubeadm token create/), 1);
    assert.equal(shell.count(/^kubeadm init phase upload-certs/), 0, 'uploads run only from the workflow, under the cluster lock');
    assert.equal(again.join.certificateKeyExpiresAt, new Date(0).toISOString(), 'the key is reported expired: upload needed');
    assert.notEqual(await secrets.get(again.join.tokenSecret), undefined);
    assert.equal(again.join.caCertHash, join.caCertHash);
    assert.ok(await secrets.has(again.kubeconfigSecret));
    assertNoSecretsOnCommandLines(shell);
  });

  test('uploaded certificates expired (after 2 h): the token is kept, the key reported expired and nothing uploaded', async () => {
    const { shell, hosts, clock, join } = await initialized();
    clock.now = new Date(T0.getTime() + 3 * 3600_000);
    const again = await hosts.kubeadmInit(initInput);
    assert.equal(shell.count(/^kubeadm token create/), 0);
    assert.equal(shell.count(/^kubeadm init phase upload-certs/), 0);
    assert.equal(again.join.tokenExpiresAt, join.tokenExpiresAt);
    assert.equal(again.join.certificateKeyExpiresAt, new Date(0).toISOString());
  });

  test('admin.conf present but the API does not answer: NotReady, retryable, init not attempted', async () => {
    const { shell, hosts } = await initialized();
    shell.apiUp = false;
    const err = await rejection(hosts.kubeadmInit(initInput));
    assert.equal(err.type, 'NotReady');
    assert.equal(err.nonRetryable, false);
    assert.equal(shell.count(/^kubeadm init --config/), 1);
  });

  test('preflight says "already initialized" while the cluster does not answer: Conflict with a reset hint', async () => {
    const { shell, hosts } = world();
    shell.initFailsWith.set('cp-a', (await import('node:fs')).readFileSync('test/fixtures/kubeadm/init-preflight-already-initialized.txt', 'utf8'));
    const err = await rejection(hosts.kubeadmInit(initInput));
    assert.equal(err.type, 'Conflict');
    assert.equal(err.nonRetryable, true);
    assert.match(failureInfo(err)?.hint ?? '', /kubeadm reset -f/);
  });
});

describe('kubeadmJoin', () => {
  const joinInput = (join: JoinCredentials, target: HostSpec, controlPlane: boolean) => ({
    clusterName: 'lab',
    host: target,
    controlPlane,
    controlPlaneEndpoint: 'lb.example:6443',
    join,
    kubeconfigSecret: 'clusters/lab/admin-kubeconfig',
    repairVia: cpA,
  });

  test('a worker joins once; the second call finds it joined and does nothing', async () => {
    const { shell, hosts, join } = await initialized();
    const first = await hosts.kubeadmJoin(joinInput(join, worker, false));
    assert.deepEqual(first, { host: 'w-1', alreadyJoined: false, repaired: false });
    const written = shell.calls.find((c) => c.kind === 'writeFile' && c.path === '/etc/kubernetes/kubeha/join.yaml');
    assert.equal(written?.mode, 0o600);
    assert.ok(!/certificateKey/.test(written?.content ?? ''), 'a worker gets no certificate key');
    assert.ok(!shell.filesOf('w-1').has('/etc/kubernetes/kubeha/join.yaml'), 'the config is removed afterwards');
    const second = await hosts.kubeadmJoin(joinInput(join, worker, false));
    assert.deepEqual(second, { host: 'w-1', alreadyJoined: true, repaired: false });
    assert.equal(shell.count(/^kubeadm join/), 1);
    assertNoSecretsOnCommandLines(shell);
  });

  test('a control plane joins as a started voting member, verified through repairVia', async () => {
    const { shell, hosts, join } = await initialized();
    const result = await hosts.kubeadmJoin(joinInput(join, cpB, true));
    assert.equal(result.alreadyJoined, false);
    const members = await hosts.etcdMembers({ host: cpA });
    const member = members.find((m) => m.name === 'cp-b');
    assert.ok(member && !member.isLearner && member.healthy);
    assert.match(member.id, /^[0-9a-f]+$/);
    assert.ok(shell.calls.some((c) => c.kind === 'writeFile' && c.path === '/etc/kubernetes/kubeha/join.yaml' && /certificateKey/.test(c.content ?? '')));
    assertNoSecretsOnCommandLines(shell);
  });

  // kubeadm gives up on the learner in two ways: it cannot catch up (older kubeadm's phase name), or
  // it never starts (kubeadm 1.37's etcd-join, after skipping the member it found already added).
  for (const output of ['join-etcd-learner-stuck.txt', 'join-etcd-member-not-started.txt']) {
    test(`half-done join (a learner that never started, no Node; ${output}): member remove and reset run before the join`, async () => {
      const { shell, hosts, join } = await initialized();
      shell.joinLeavesLearner.set('cp-b', output);
      const failed = await rejection(hosts.kubeadmJoin(joinInput(join, cpB, true)));
      assert.equal(failed.type, 'CommandTransient', 'the next attempt can repair it');
      assert.equal(failed.nonRetryable, false);
      const stale = shell.members.find((m) => m.isLearner);
      assert.ok(stale, 'the failed join left a learner behind');
      const mark = shell.calls.length;

      const result = await hosts.kubeadmJoin(joinInput(join, cpB, true));
      assert.deepEqual(result, { host: 'cp-b', alreadyJoined: false, repaired: true });
      const after = shell.calls.slice(mark).filter((c) => c.kind === 'run');
      const at = (re: RegExp, on: string) => after.findIndex((c) => c.host === on && re.test(c.command));
      const remove = at(new RegExp(`member remove ${stale.id.toString(16)}$`), 'cp-a');
      const reset = at(/^kubeadm reset -f$/, 'cp-b');
      const joinAt = at(/^kubeadm join --config/, 'cp-b');
      assert.ok(remove >= 0 && reset > remove && joinAt > reset, `order: remove ${remove}, reset ${reset}, join ${joinAt}`);
      assert.equal(shell.members.filter((m) => m.peerUrls.includes('https://10.20.2.12:2380')).length, 1);
    });
  }

  test('Node present but kubelet.conf missing: the Node is deleted and the host reset before joining', async () => {
    const { shell, hosts, join } = await initialized();
    await hosts.kubeadmJoin(joinInput(join, worker, false));
    shell.filesOf('w-1').delete('/etc/kubernetes/kubelet.conf');
    const mark = shell.calls.length;
    const result = await hosts.kubeadmJoin(joinInput(join, worker, false));
    assert.equal(result.repaired, true);
    const after = shell.commands().slice(shell.commands().length - shell.calls.slice(mark).filter((c) => c.kind === 'run').length);
    const del = after.findIndex((c) => /delete node 'w-1'/.test(c));
    const reset = after.indexOf('kubeadm reset -f');
    const joinAt = after.findIndex((c) => c.startsWith('kubeadm join'));
    assert.ok(del >= 0 && reset > del && joinAt > reset);
  });

  test('uploaded certificates gone (2 h): CredentialExpired with refresh "certificate-key", no secret in the error', async () => {
    const { shell, hosts, clock, join, secrets } = await initialized();
    clock.now = new Date(T0.getTime() + 2.5 * 3600_000);
    const err = await rejection(hosts.kubeadmJoin(joinInput(join, cpB, true)));
    assert.equal(err.type, 'CredentialExpired');
    assert.equal(err.nonRetryable, false);
    assert.equal(failureInfo(err)?.refresh, 'certificate-key');
    const serialized = JSON.stringify({ message: err.message, details: err.details });
    assert.match(serialized, /kubeadm-certs/);
    for (const secret of [await secrets.get(join.tokenSecret), await secrets.get(join.certificateKeySecret)]) assert.ok(!serialized.includes(secret));
    assert.ok(!shell.filesOf('cp-b').has('/etc/kubernetes/kubeha/join.yaml'), 'the config is removed after a failure too');
  });

  test('a certificate key that does not open the uploaded certificates: refresh "certificate-key"', async () => {
    const { shell, hosts, join } = await initialized();
    shell.upload('0'.repeat(64));
    const err = await rejection(hosts.kubeadmJoin(joinInput(join, cpB, true)));
    assert.equal(err.type, 'CredentialExpired');
    assert.equal(failureInfo(err)?.refresh, 'certificate-key');
  });

  test('an expired token: refresh "token"; after refreshJoinCredentials the join succeeds', async () => {
    const { shell, hosts, clock, join } = await initialized();
    clock.now = new Date(T0.getTime() + 25 * 3600_000);
    const err = await rejection(hosts.kubeadmJoin(joinInput(join, worker, false)));
    assert.equal(err.type, 'CredentialExpired');
    assert.equal(failureInfo(err)?.refresh, 'token');
    const fresh = await hosts.refreshJoinCredentials({ clusterName: 'lab', host: cpA, current: join, refreshToken: true, refreshCertificateKey: false });
    assert.equal(fresh.tokenExpiresAt, new Date(clock.now.getTime() + 24 * 3600_000).toISOString());
    assert.equal(fresh.certificateKeyExpiresAt, join.certificateKeyExpiresAt, 'the key was not asked for');
    assert.equal(shell.count(/^kubeadm init phase upload-certs/), 0);
    assert.equal((await hosts.kubeadmJoin(joinInput(fresh, worker, false))).alreadyJoined, false);
    assertNoSecretsOnCommandLines(shell);
  });

  test('dry run: checks only, never resets or joins', async () => {
    const { shell, hosts, join } = await initialized();
    const result = await hosts.kubeadmJoin({ ...joinInput(join, worker, false), dryRun: true });
    assert.deepEqual(result, { host: 'w-1', alreadyJoined: false, repaired: false });
    assert.equal(shell.count(/^kubeadm (join|reset)/), 0);
  });
});

describe('refreshJoinCredentials', () => {
  test('a new certificate key: uploaded through a 0600 config, verified against kubeadm-certs, expiry from its owner token', async () => {
    const { shell, secrets, hosts, clock, join } = await initialized();
    clock.now = new Date(T0.getTime() + 90 * 60_000);
    const fresh = await hosts.refreshJoinCredentials({ clusterName: 'lab', host: cpA, current: join, refreshToken: false, refreshCertificateKey: true });
    const key = await secrets.get(fresh.certificateKeySecret);
    assert.equal(shell.uploaded?.key, key);
    assert.equal(fresh.certificateKeyExpiresAt, '2025-02-03T13:30:00.000Z');
    assert.equal(fresh.tokenExpiresAt, join.tokenExpiresAt);
    const config = shell.calls.find((c) => c.kind === 'writeFile' && c.path === '/etc/kubernetes/kubeha/upload-certs.yaml');
    assert.equal(config?.mode, 0o600);
    assert.ok(config?.content?.includes(`certificateKey: ${key}`));
    assert.ok(config?.content?.includes('kind: ClusterConfiguration'));
    assert.ok(shell.indexOf(/get secret kubeadm-certs -o json$/) > shell.indexOf(/^kubeadm init phase upload-certs/), 'verified after the upload');
    assertNoSecretsOnCommandLines(shell);
  });
});

describe('prepareHost', () => {
  test('sends the script over stdin, reports changes, verifies with a check run, then is idempotent', async () => {
    const { shell, hosts } = world();
    const first = await hosts.prepareHost({ host: cpA, kubernetesVersion: '1.31.2' });
    assert.equal(first.changed.length, 10);
    assert.ok(first.changed.includes('etcd-client'));
    const runs = shell.calls.filter((c) => c.command === 'sh -s');
    assert.equal(runs.length, 2, 'the run, then a dry-run check');
    assert.match(runs[0].stdin ?? '', /^DRY_RUN=0$/m);
    assert.match(runs[1].stdin ?? '', /^DRY_RUN=1$/m);
    const second = await hosts.prepareHost({ host: cpA, kubernetesVersion: '1.31.2' });
    assert.deepEqual(second.changed, []);
    assert.equal(second.alreadyPrepared.length, 10);
  });

  test('dry run reports what would change and changes nothing; workers get no etcd-client', async () => {
    const { shell, hosts } = world();
    const result = await hosts.prepareHost({ host: worker, kubernetesVersion: '1.31.2', dryRun: true });
    assert.equal(result.changed.length, 9);
    assert.ok(!result.changed.includes('etcd-client'));
    assert.equal(shell.prepared.get('w-1')?.size, 0);
  });
});
