/**
 * Choosing the worker's secret store by configuration: each wrong setting is refused with its name and
 * the rule, and `kubeha worker` stops on it at once (exit 2), before it connects to Temporal.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubernetesSecretStore } from '../../activities/secrets/kubernetesStore';
import { secretStoreFromEnv, verifySecretStore } from '../../activities/secrets/fromEnv';
import { SecretsManagerSecretStore } from '../../activities/secrets/secretsManagerStore';
import { FileSecretStore } from '../../activities/secrets/store';
import { formatKeyList } from '../../lib/codec/keyring';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { runCli } from '../client/cliProcess';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-store-config-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('secret store configuration', () => {
  test("the file store is the default, under KUBEHA_DATA_DIR, and one worker's own", () => {
    const configured = secretStoreFromEnv({ KUBEHA_DATA_DIR: dir });
    assert.equal(configured.kind, 'file');
    assert.ok(configured.store instanceof FileSecretStore);
    assert.equal(configured.where, path.join(dir, 'secrets'));
    assert.equal(configured.shared, false);
  });

  test('kubernetes and aws-secrets-manager are built from their settings and shared', () => {
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const kube = secretStoreFromEnv({
      KUBEHA_SECRET_STORE: 'kubernetes',
      KUBEHA_SECRET_STORE_KUBECONFIG: kubeconfig,
      KUBEHA_SECRET_STORE_NAMESPACE: 'platform',
    });
    assert.ok(kube.store instanceof KubernetesSecretStore);
    assert.equal((kube.store as KubernetesSecretStore).namespace, 'platform');
    assert.equal(kube.shared, true);
    const sm = secretStoreFromEnv({ KUBEHA_SECRET_STORE: 'aws-secrets-manager', AWS_REGION: 'eu-west-1', KUBEHA_SECRET_STORE_PREFIX: 'prod/kubeha/' });
    assert.ok(sm.store instanceof SecretsManagerSecretStore);
    assert.equal((sm.store as SecretsManagerSecretStore).prefix, 'prod/kubeha/');
  });

  const refusals: Array<{ env: NodeJS.ProcessEnv; message: RegExp }> = [
    {
      env: { KUBEHA_SECRET_STORE: 'vault' },
      message: /SecretStoreConfigError: KUBEHA_SECRET_STORE: must be one of file, kubernetes, aws-secrets-manager, got "vault"/,
    },
    {
      env: { KUBEHA_SECRET_STORE: 'kubernetes' },
      message: /SecretStoreConfigError: KUBEHA_SECRET_STORE_KUBECONFIG: must name a kubeconfig file when the worker does not run in a pod/,
    },
    {
      env: { KUBEHA_SECRET_STORE: 'kubernetes', KUBEHA_SECRET_STORE_KUBECONFIG: '/nonexistent/kubeconfig' },
      message: /SecretStoreConfigError: KUBEHA_SECRET_STORE_KUBECONFIG: \/nonexistent\/kubeconfig is not readable \(ENOENT\)/,
    },
    {
      env: { KUBEHA_SECRET_STORE: 'kubernetes', KUBEHA_SECRET_STORE_KUBECONFIG: '/dev/null', KUBEHA_SECRET_STORE_NAMESPACE: 'Not_A_Namespace' },
      message: /SecretStoreConfigError: KUBEHA_SECRET_STORE_NAMESPACE: must be a namespace name/,
    },
    { env: { KUBEHA_SECRET_STORE: 'aws-secrets-manager' }, message: /SecretStoreConfigError: AWS_REGION: must name the region/ },
    {
      env: { KUBEHA_SECRET_STORE: 'aws-secrets-manager', AWS_REGION: 'us-east-1', KUBEHA_SECRET_STORE_PREFIX: 'bad prefix!' },
      message: /SecretStoreConfigError: KUBEHA_SECRET_STORE_PREFIX: must be letters, digits/,
    },
  ];
  for (const { env, message } of refusals) {
    test(`refuses ${JSON.stringify(env)}`, () => {
      assert.throws(() => secretStoreFromEnv(env), message);
    });
  }

  test('a store that does not answer is refused at start, naming what to fix', async () => {
    const kubeconfig = path.join(dir, 'unreachable');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const configured = secretStoreFromEnv({ KUBEHA_SECRET_STORE: 'kubernetes', KUBEHA_SECRET_STORE_KUBECONFIG: kubeconfig });
    await assert.rejects(
      verifySecretStore(configured),
      /SecretStoreConfigError: KUBEHA_SECRET_STORE_KUBECONFIG: the kubernetes secret store \(Secrets in namespace kubeha of https:\/\/127\.0\.0\.1:1\) does not answer/,
    );
  });

  test('kubeha worker with the Secrets Manager store and no AWS credentials stops naming them', async () => {
    const keys = formatKeyList([kubehaDataConverter().keyring.encryptKey]);
    const noCredentials = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
      AWS_CONFIG_FILE: path.join(dir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
      AWS_WEB_IDENTITY_TOKEN_FILE: '',
    };
    const run = await runCli(
      ['worker'],
      {
        ...noCredentials,
        KUBEHA_SECRET_STORE: 'aws-secrets-manager',
        AWS_REGION: 'us-east-1',
        KUBEHA_CODEC_KEYS: keys,
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        KUBEHA_DATA_DIR: dir,
      },
      120_000,
    );
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /secret store: AWS credentials \(AWS_ACCESS_KEY_ID, AWS_PROFILE or a role\): the aws-secrets-manager secret store .* does not answer: .*credentials/i,
    );
  });

  test('kubeha worker stops on a bad store with the setting named and exit 2, without Temporal', async () => {
    const keys = formatKeyList([kubehaDataConverter().keyring.encryptKey]);
    // No Temporal listens on port 1: the store is checked before the connection.
    const run = await runCli(['worker'], {
      KUBEHA_SECRET_STORE: 'kubernetes',
      KUBEHA_SECRET_STORE_KUBECONFIG: '',
      KUBEHA_CODEC_KEYS: keys,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      KUBEHA_DATA_DIR: dir,
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /secret store: KUBEHA_SECRET_STORE_KUBECONFIG: must name a kubeconfig file/);
    assert.doesNotMatch(run.stderr + run.stdout, /127\.0\.0\.1:1/, 'it never tried Temporal');
  });
});
