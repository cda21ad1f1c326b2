/**
 * The secret stores several workers can share, against real peers: Kubernetes Secrets on a real
 * kube-apiserver, AWS Secrets Manager on moto, and the file store beside them. One contract for all:
 * values round-trip, a missing secret is SecretMissing, concurrent writers from two store instances
 * (two workers) leave one whole value, the first writer of a new secret wins, and trust-on-first-use
 * host keys accepted by one worker are what the other checks against.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KubeClient } from '../../activities/kubernetes/client';
import { parseKubeconfig } from '../../activities/kubernetes/kubeconfig';
import { KubernetesSecretStore, kubernetesSecretName, SECRET_NAME_ANNOTATION } from '../../activities/secrets/kubernetesStore';
import { SecretsManagerSecretStore } from '../../activities/secrets/secretsManagerStore';
import { FileSecretStore, type SecretStore } from '../../activities/secrets/store';
import { SecretStoreKnownHosts } from '../../activities/ssh/storedKnownHosts';
import { failureType } from '../../common/errors';
import { startTestApiServer, type TestApiServer } from '../support/apiserver';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type MotoServer } from '../support/moto';

let api: TestApiServer;
let moto: MotoServer;
let dir: string;

/** Two instances of each backend: what two workers on different machines would hold. */
const backends: Record<string, () => [SecretStore, SecretStore]> = {
  file: () => [new FileSecretStore(path.join(dir, 'secrets')), new FileSecretStore(path.join(dir, 'secrets'))],
  kubernetes: () => {
    const client = () => new KubeClient(parseKubeconfig(api.kubeconfig), { requestTimeoutMs: 10_000 });
    return [new KubernetesSecretStore(client(), 'kubeha'), new KubernetesSecretStore(client(), 'kubeha')];
  },
  'aws-secrets-manager': () => {
    const client = () => new SecretsManagerClient({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    return [new SecretsManagerSecretStore(client()), new SecretsManagerSecretStore(client())];
  },
};

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-stores-'));
  [api, moto] = await Promise.all([startTestApiServer(), startMoto()]);
  const ns = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeha' } });
  assert.equal(ns.status, 201);
});

after(async () => {
  await Promise.all([api?.stop(), moto?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const [kind, make] of Object.entries(backends)) {
  describe(`the ${kind} secret store`, { timeout: 120_000 }, () => {
    test('round-trips values, reports a missing secret as SecretMissing, deletes', async () => {
      const [one, two] = make();
      const name = `clusters/${kind}-a/admin-kubeconfig`;
      assert.equal(await one.has(name), false);
      await assert.rejects(
        one.get(name),
        (err: unknown) => failureType(err) === 'SecretMissing' && /is not in the worker's secret store/.test((err as Error).message),
      );
      const kubeconfig = `apiVersion: v1\nkind: Config\n# ünïcode and a newline at the end\n`;
      await one.put(name, kubeconfig);
      assert.equal(await two.get(name), kubeconfig, 'the other worker reads what the first wrote');
      await two.put(name, 'replaced');
      assert.equal(await one.get(name), 'replaced');
      await one.delete(name);
      assert.equal(await two.has(name), false);
      await two.delete(name); // deleting what is gone is fine
    });

    test('two workers writing at once leave one whole value, and the first writer of a new secret wins', async () => {
      const [one, two] = make();
      const name = `clusters/${kind}-b/token`;
      const writes = Array.from({ length: 8 }, (_, i) => (i % 2 ? two : one).put(name, `value-${i}-${'x'.repeat(64)}`));
      await Promise.all(writes);
      assert.match(await one.get(name), /^value-[0-7]-x{64}$/);
      const fresh = `clusters/${kind}-b/first`;
      const [a, b] = await Promise.all([one.putIfAbsent(fresh, 'from-one'), two.putIfAbsent(fresh, 'from-two')]);
      assert.equal(a, b, 'both workers see the same winner');
      assert.equal(await one.get(fresh), a);
      assert.equal(await two.putIfAbsent(fresh, 'late'), a, 'a later writer gets the value in force');
    });

    test('trust-on-first-use keys accepted by one worker are the ones the other checks against', async () => {
      const [one, two] = make();
      const endpoint = `[10.0.1.${kind.length}]:22`;
      const key = (fingerprint: string) => ({ fingerprint, keyType: 'ssh-ed25519', hostName: 'cp-1', firstSeen: '2026-12-05T00:00:00.000Z' });
      const first = new SecretStoreKnownHosts(one);
      const second = new SecretStoreKnownHosts(two);
      assert.equal(await second.lookup(endpoint), undefined);
      const [x, y] = await Promise.all([first.remember(endpoint, key('SHA256:first')), second.remember(endpoint, key('SHA256:second'))]);
      assert.deepEqual(x, y, 'one key pinned, whoever met the host first');
      assert.deepEqual(await second.lookup(endpoint), x);
    });
  });
}

describe('the kubernetes store on the API server', { timeout: 60_000 }, () => {
  test('keeps each secret in a Secret named by hash, with its kubeha name annotated and the value base64 only', async () => {
    const [store] = backends.kubernetes();
    await store.put('clusters/west/certificate-key', 'c0ffee');
    const object = await api.request<{ metadata: { annotations: Record<string, string>; labels: Record<string, string> }; data: Record<string, string> }>(
      'GET',
      `/api/v1/namespaces/kubeha/secrets/${kubernetesSecretName('clusters/west/certificate-key')}`,
    );
    assert.equal(object.status, 200);
    assert.equal(object.body.metadata.annotations[SECRET_NAME_ANNOTATION], 'clusters/west/certificate-key');
    assert.equal(object.body.metadata.labels['app.kubernetes.io/managed-by'], 'kubeha');
    assert.equal(Buffer.from(object.body.data.value, 'base64').toString(), 'c0ffee');
  });

  test('a user without rights on Secrets gets a clear failure, not a missing secret', async () => {
    const client = new KubeClient(parseKubeconfig(await api.kubeconfigFor('nobody')), { requestTimeoutMs: 10_000 });
    const store = new KubernetesSecretStore(client, 'kubeha');
    await assert.rejects(
      store.get('clusters/west/certificate-key'),
      (err: unknown) => failureType(err) !== 'SecretMissing' && /403|forbidden/i.test((err as Error).message),
    );
  });
});
