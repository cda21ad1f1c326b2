/**
 * A host's admin.conf is copied into the secret store only when it is what kubeadm writes with the
 * cluster's CA: one carrying an exec or auth-provider plugin, a token, file references,
 * insecure-skip-tls-verify or another CA is refused, nothing in it is executed, and the store keeps
 * no copy. Against the in-memory host double (test/hosts/fakeHostShell.ts) and the real activity.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parse, stringify } from 'yaml';
import { createHostActivities } from '../../activities/hosts';
import { adminConfProblem } from '../../activities/hosts/adminConf';
import { caCertHash } from '../../activities/hosts/pki';
import { failureInfo } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { FakeHostShell, makeCaPem, MemorySecretStore } from './fakeHostShell';

const ssh = { user: 'root', port: 22, privateKey: { file: '/dev/null' }, trustOnFirstUse: true, connectTimeoutSeconds: 5 };
const cpA: HostSpec = { name: 'cp-a', address: '10.20.1.11', role: 'control-plane', ssh };
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

type Doc = { clusters: { cluster: Record<string, unknown> }[]; users: { user: Record<string, unknown> }[] };

/** The fake's admin.conf with `edit` applied. */
function edited(shell: FakeHostShell, edit: (doc: Doc) => void): string {
  const doc = parse(shell.adminConf('cp-a')) as Doc;
  edit(doc);
  return stringify(doc);
}

describe('adminConfProblem', () => {
  test("kubeadm's admin.conf with the recorded CA is accepted", () => {
    const shell = new FakeHostShell(caPem, () => new Date());
    assert.equal(adminConfProblem(shell.adminConf('cp-a'), caCertHash(caPem)), undefined);
  });

  const cases: [string, (doc: Doc) => void, RegExp][] = [
    ['an exec plugin', (d) => (d.users[0].user.exec = { apiVersion: 'client.authentication.k8s.io/v1', command: 'touch' }), /has "exec"/],
    ['an auth-provider', (d) => (d.users[0].user['auth-provider'] = { name: 'oidc' }), /has "auth-provider"/],
    ['a token', (d) => (d.users[0].user.token = 'abc'), /has "token"/],
    ['a token file', (d) => (d.users[0].user.tokenFile = '/etc/shadow'), /has "tokenFile"/],
    ['a client key file', (d) => (d.users[0].user['client-key'] = '/root/.ssh/id_rsa'), /has "client-key"/],
    ['a CA file', (d) => (d.clusters[0].cluster['certificate-authority'] = '/etc/ssl/ca.pem'), /has "certificate-authority"/],
    ['insecure-skip-tls-verify', (d) => (d.clusters[0].cluster['insecure-skip-tls-verify'] = true), /has "insecure-skip-tls-verify"/],
    ['no embedded client key', (d) => delete d.users[0].user['client-key-data'], /lacks embedded client-certificate-data and client-key-data/],
    ['no embedded CA', (d) => delete d.clusters[0].cluster['certificate-authority-data'], /lacks an embedded certificate-authority-data/],
    ['plain http', (d) => (d.clusters[0].cluster.server = 'http://lb.example:6443'), /not served over https/],
  ];
  for (const [what, edit, reason] of cases) {
    test(`${what} is refused, naming the field`, () => {
      const shell = new FakeHostShell(caPem, () => new Date());
      assert.match(adminConfProblem(edited(shell, edit), caCertHash(caPem)) ?? '', reason);
    });
  }

  test("another cluster's CA is refused", () => {
    const shell = new FakeHostShell(makeCaPem(), () => new Date());
    assert.match(adminConfProblem(shell.adminConf('cp-a'), caCertHash(caPem)) ?? '', /not the cluster's recorded sha256:/);
  });
});

describe('kubeadmInit with a planted admin.conf', () => {
  test('an admin.conf with an exec plugin is refused, nothing is executed and nothing is stored', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kubeha-adminconf-'));
    const marker = path.join(dir, 'ran');
    try {
      const shell = new FakeHostShell(caPem, () => new Date('2025-02-03T10:00:00Z'));
      const secrets = new MemorySecretStore();
      const hosts = createHostActivities({ shell, secrets, now: () => new Date('2025-02-03T10:00:00Z') });
      shell.initializeControlPlane(cpA);
      const planted = edited(
        shell,
        (d) => (d.users[0].user = { ...d.users[0].user, exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'touch', args: [marker] } }),
      );
      shell.filesOf('cp-a').set('/etc/kubernetes/admin.conf', planted);
      let failure: unknown;
      await hosts.kubeadmInit(initInput).catch((err: unknown) => (failure = err));
      assert.ok(failure instanceof ApplicationFailure, `expected a refusal, got ${String(failure)}`);
      assert.match(failure.message, /admin\.conf is refused: user "kubernetes-admin" has "exec"/);
      assert.equal(failure.nonRetryable, true);
      assert.match(failureInfo(failure)?.hint ?? '', /kubeadm init phase kubeconfig admin/);
      assert.equal(existsSync(marker), false, 'the plugin never ran');
      assert.equal(secrets.values.has('clusters/lab/admin-kubeconfig'), false, 'the refused kubeconfig is not stored');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
