/**
 * A run for one cluster never acts on another cluster's hosts or secrets, and certificate keys are
 * uploaded only when the workflow asks (under the cluster lock). Host activities against the
 * in-memory host double (test/hosts/fakeHostShell.ts): east is bootstrapped, then runs for "west"
 * point at east's primary.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { createHostActivities } from '../../activities/hosts';
import type { HostSpec } from '../../common/inputs/shared';
import { FakeHostShell, makeCaPem, MemorySecretStore } from './fakeHostShell';

const ssh = { user: 'root', port: 22, privateKey: { file: '/dev/null' }, trustOnFirstUse: false, connectTimeoutSeconds: 5 };
const eastPrimary: HostSpec = { name: 'east-cp-1', address: '10.30.1.11', role: 'control-plane', ssh };
const T0 = new Date('2025-02-03T10:00:00Z');
const initOf = (clusterName: string) => ({
  clusterName,
  host: eastPrimary,
  controlPlaneEndpoint: 'lb.example:6443',
  kubernetesVersion: '1.31.2',
  podCidr: '192.168.0.0/16',
  serviceCidr: '10.96.0.0/12',
});

let caPem: string;
let westCaPem: string;
before(() => {
  caPem = makeCaPem();
  westCaPem = makeCaPem();
});

async function eastBootstrapped() {
  const shell = new FakeHostShell(caPem, () => T0);
  const secrets = new MemorySecretStore();
  const hosts = createHostActivities({ shell, secrets, now: () => T0 });
  await hosts.kubeadmInit(initOf('east'));
  return { shell, secrets, hosts, mark: shell.calls.length };
}

/** What changed on east's hosts since `mark`: file writes and commands that create or upload. */
function changesSince(shell: FakeHostShell, mark: number): string[] {
  return shell.calls
    .slice(mark)
    .filter((c) => c.kind === 'writeFile' || /kubeadm (init|token create|join)|upload-certs|rm /.test(c.command))
    .map((c) => `${c.host}: ${c.kind} ${c.path ?? c.command}`);
}

describe('cluster identity', () => {
  test("verify for west on east's primary (west never initialised): nothing found, nothing changed", async () => {
    const { shell, secrets, hosts, mark } = await eastBootstrapped();
    const stored = new Map(secrets.values);
    assert.equal(await hosts.findInitialized({ clusterName: 'west', host: eastPrimary }), null);
    assert.deepEqual(changesSince(shell, mark), []);
    assert.deepEqual(secrets.values, stored, 'no secret written or changed');
  });

  test("a run for west whose recorded CA is not the host's is refused on east's primary before anything is done", async () => {
    const { shell, secrets, hosts, mark } = await eastBootstrapped();
    // West was initialised elsewhere: its recorded admin kubeconfig carries west's CA.
    secrets.values.set('clusters/west/admin-kubeconfig', new FakeHostShell(westCaPem, () => T0).adminConf('west-cp-1'));
    const stored = new Map(secrets.values);
    for (const attempt of [() => hosts.findInitialized({ clusterName: 'west', host: eastPrimary }), () => hosts.kubeadmInit(initOf('west'))]) {
      const err = await attempt().then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'Conflict');
      assert.match(err.message, /east-cp-1 does not belong to cluster west/);
    }
    assert.deepEqual(changesSince(shell, mark), [], 'no token, no upload, no file on east');
    assert.deepEqual(secrets.values, stored, "east's and west's secrets untouched");
  });

  test('findInitialized on the cluster it belongs to: reads only, reports an expired key as upload needed', async () => {
    const { shell, secrets, hosts, mark } = await eastBootstrapped();
    secrets.values.delete('clusters/east/certificate-key');
    const found = await hosts.findInitialized({ clusterName: 'east', host: eastPrimary });
    assert.equal(found?.kubeconfigSecret, 'clusters/east/admin-kubeconfig');
    assert.equal(found?.join.certificateKeyExpiresAt, new Date(0).toISOString());
    assert.deepEqual(changesSince(shell, mark), []);
  });

  test('a token-only refresh never uploads certificates, even when the key is gone from the store', async () => {
    const { shell, secrets, hosts, mark } = await eastBootstrapped();
    const current = (await hosts.findInitialized({ clusterName: 'east', host: eastPrimary }))?.join;
    assert.ok(current);
    secrets.values.delete(current.certificateKeySecret);
    const fresh = await hosts.refreshJoinCredentials({ clusterName: 'east', host: eastPrimary, current, refreshToken: true, refreshCertificateKey: false });
    assert.equal(shell.calls.slice(mark).filter((c) => /upload-certs/.test(c.command)).length, 0);
    assert.equal(shell.calls.slice(mark).filter((c) => /^kubeadm token create/.test(c.command)).length, 1);
    assert.equal(fresh.certificateKeyExpiresAt, new Date(0).toISOString(), 'upload needed: the workflow uploads under the lock');
  });
});
