/**
 * The Temporal connection settings every kubeha process uses (client/connection.ts, through
 * @temporalio/envconfig): profiles of temporal.toml, the standard TEMPORAL_* variables, and a clear
 * start-up error naming the setting of a TLS file that cannot be read (from `kubeha worker`, the CLI,
 * `kubeha webhook` and `kubeha codec-server`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CliError, temporalConnectionOptions } from '../../client/connection';
import { temporalSettings } from '../../lib/config';
import { freePort } from '../../lib/freePort';
import { runCli } from './cliProcess';

const dir = mkdtempSync(path.join(tmpdir(), 'kubeha-temporal-conn-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const base = { HOME: dir, TEMPORAL_CONFIG_FILE: path.join(dir, 'absent.toml') };

describe('Temporal connection settings', () => {
  test('a temporal.toml profile gives address, namespace-independent TLS and API key; TEMPORAL_ADDRESS overrides', () => {
    const file = path.join(dir, 'temporal.toml');
    const ca = path.join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(
      file,
      `[profile.prod]\naddress = "temporal.prod.example:7233"\napi_key = "k-123"\n[profile.prod.tls]\nserver_ca_cert_path = "${ca}"\nserver_name = "temporal.prod.example"\n`,
    );
    const env = { HOME: dir, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' };
    const options = temporalConnectionOptions(temporalSettings(env), env);
    assert.equal(options.address, 'temporal.prod.example:7233');
    assert.equal(options.apiKey, 'k-123');
    assert.ok(options.tls && typeof options.tls === 'object');
    assert.equal(options.tls.serverNameOverride, 'temporal.prod.example');
    assert.match(Buffer.from(options.tls.serverRootCACertificate ?? []).toString(), /BEGIN CERTIFICATE/);
    assert.equal(temporalConnectionOptions(temporalSettings(env), { ...env, TEMPORAL_ADDRESS: '10.0.0.1:7233' }).address, '10.0.0.1:7233');
  });

  test('without a profile: the plain address kubeha always used, no TLS', () => {
    const options = temporalConnectionOptions(temporalSettings(base), base);
    assert.equal(options.address, '127.0.0.1:7233');
    assert.equal(options.tls, undefined);
  });

  test('mTLS from the standard variables', () => {
    const crt = path.join(dir, 'client.crt');
    const key = path.join(dir, 'client.key');
    writeFileSync(crt, 'CRT');
    writeFileSync(key, 'KEY');
    const env = { ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: crt, TEMPORAL_TLS_CLIENT_KEY_PATH: key };
    const options = temporalConnectionOptions(temporalSettings(env), env);
    assert.ok(options.tls && typeof options.tls === 'object');
    assert.equal(Buffer.from(options.tls.clientCertPair?.crt ?? []).toString(), 'CRT');
    assert.equal(Buffer.from(options.tls.clientCertPair?.key ?? []).toString(), 'KEY');
  });

  test('an unreadable TLS file is a clear error naming its setting', () => {
    const env = { ...base, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing-ca.pem') };
    assert.throws(
      () => temporalConnectionOptions(temporalSettings(env), env),
      (err: unknown) =>
        err instanceof CliError && err.exitCode === 2 && /missing-ca\.pem \(ENOENT\), named by TEMPORAL_TLS_SERVER_CA_CERT_PATH/.test(err.message),
    );
  });

  test('kubeha worker and kubeha status stop at start-up on an unreadable client key, naming the setting', async () => {
    const keys = path.join(dir, 'codec-keys');
    writeFileSync(keys, `k1:${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    const env = {
      ...base,
      KUBEHA_DATA_DIR: dir,
      KUBEHA_CODEC_KEY_FILE: keys,
      TEMPORAL_TLS_CLIENT_CERT_PATH: keys,
      TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'nope.key'),
    };
    for (const args of [['worker'], ['status', 'some-workflow']]) {
      const run = await runCli(args, env);
      assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
      assert.match(run.stderr, /nope\.key \(ENOENT\), named by TEMPORAL_TLS_CLIENT_KEY_PATH/);
    }
  });

  test('kubeha webhook and kubeha codec-server stop before listening on an unreadable TLS file, naming the setting', async () => {
    const keys = path.join(dir, 'codec-keys-servers');
    writeFileSync(keys, `k1:${Buffer.alloc(32, 9).toString('base64')}\n`, { mode: 0o600 });
    const token = path.join(dir, 'webhook-token');
    writeFileSync(token, 'a-webhook-token-long-enough-to-pass\n', { mode: 0o600 });
    const routes = path.join(dir, 'routes.json');
    writeFileSync(
      routes,
      JSON.stringify({
        listen: { port: await freePort() },
        auth: { bearerToken: { file: token } },
        routes: [{ name: 'watchdog', matchers: ['alertname="Watchdog"'], action: 'ignore' }],
      }),
    );
    const env = { ...base, KUBEHA_DATA_DIR: dir, KUBEHA_CODEC_KEY_FILE: keys, KUBEHA_CODEC_TOKEN: 'a-codec-token-long-enough-to-pass' };
    const cases = [
      { args: ['webhook', '--config', routes], setting: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', file: 'absent-ca.pem', listening: /listening/ },
      {
        args: ['codec-server', '--port', String(await freePort())],
        setting: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
        file: 'absent-client.key',
        listening: /codec server at/,
      },
    ];
    for (const { args, setting, file, listening } of cases) {
      const tls = setting === 'TEMPORAL_TLS_CLIENT_KEY_PATH' ? { TEMPORAL_TLS_CLIENT_CERT_PATH: keys } : {};
      const run = await runCli(args, { ...env, ...tls, [setting]: path.join(dir, file) });
      assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`${file.replace('.', '\\.')} \\(ENOENT\\), named by ${setting}`), args[0]);
      assert.doesNotMatch(run.stdout, listening, `${args[0]} did not start serving`);
    }
  });
});
