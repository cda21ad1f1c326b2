/**
 * The webhook over HTTPS, for an Alertmanager across a network: a real Alertmanager whose
 * `tls_config` trusts the webhook's CA and presents a client certificate delivers an alert that starts
 * the failover; a caller without a client certificate, one that does not trust the server's CA, or one
 * speaking plain HTTP gets nothing; unreadable TLS files stop the start naming the field.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { resolveConfig } from '../../client/webhook/config';
import type { FailoverStatus } from '../../common/inputs/failoverToEast';
import { failoverWorker, FakeFailoverWorld } from '../failover/fakeFailoverWorld';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { startAlertmanager, type TestAlertmanager } from './alertmanagerProcess';
import { request, startTestWebhook, TEST_ENV, TOKEN, webhookConfig, type TestWebhook } from './helpers';

const WEST = 'west-tls';
let dir: string;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let hook: TestWebhook;
let alertmanager: TestAlertmanager;
const file = (name: string) => path.join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A CA (`<name>-ca.pem`) and one certificate it signs (`<name>.pem`, `<name>-key.pem`). */
function issue(name: string, subject: string, extensions: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-keyout',
    file(`${name}-ca-key.pem`),
    '-out',
    file(`${name}-ca.pem`),
  );
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    subject,
    '-keyout',
    file(`${name}-key.pem`),
    '-out',
    file(`${name}.csr`),
  );
  writeFileSync(file(`${name}.ext`), extensions);
  openssl(
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file(`${name}-ca.pem`),
    '-CAkey',
    file(`${name}-ca-key.pem`),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file(`${name}.ext`),
    '-out',
    file(`${name}.pem`),
  );
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kubeha-webhook-tls-'));
  issue('server', '/CN=kubeha-webhook', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', '/CN=alertmanager', 'extendedKeyUsage=clientAuth\n');
  issue('stranger', '/CN=stranger', 'extendedKeyUsage=clientAuth\n');
  env = await startTestTemporal();
  const world = new FakeFailoverWorld();
  const started = await failoverWorker(env, world.allActivities());
  worker = started.worker;
  running = worker.run();
  const listen = { host: '127.0.0.1', port: 0, tls: { certFile: file('server.pem'), keyFile: file('server-key.pem'), clientCaFile: file('client-ca.pem') } };
  hook = await startTestWebhook(env, webhookConfig({ listen, dedupeSeconds: 0 }, WEST), started.taskQueue);
  alertmanager = await startAlertmanager({
    webhookUrl: hook.url,
    bearerToken: TOKEN,
    tls: { caFile: file('server-ca.pem'), certFile: file('client.pem'), keyFile: file('client-key.pem') },
  });
});

after(async () => {
  await alertmanager?.stop();
  await hook?.close();
  worker?.shutdown();
  await running;
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** GET /healthz over HTTPS with the given trust and client certificate; the status, or the error. */
function get(options: { ca?: string; cert?: string; key?: string }): Promise<number | string> {
  const read = (name?: string) => (name ? readFileSync(file(name), 'utf8') : undefined);
  return new Promise((resolve) => {
    const req = https.get(`${hook.server.url}/healthz`, { ca: read(options.ca), cert: read(options.cert), key: read(options.key), agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('the webhook over TLS', { timeout: 120_000 }, () => {
  test('a real Alertmanager with the CA and a client certificate starts the failover over HTTPS', async () => {
    assert.match(hook.url, /^https:\/\/127\.0\.0\.1:\d+\/v1\/alertmanager$/);
    await alertmanager.postAlerts([
      {
        labels: { alertname: 'WestDown', severity: 'critical', cluster: WEST },
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
      },
    ]);
    const handle = env.client.workflow.getHandle(`failover-${WEST}-to-east`);
    const status = await eventually(
      async () => {
        const s = await handle.query<FailoverStatus>('status').catch(() => undefined);
        return s?.state === 'failed-over' ? s : undefined;
      },
      30_000,
      `failover via Alertmanager over TLS (log: ${alertmanager.log().slice(-800)})`,
    );
    assert.deepEqual(status.eastPercent, { 'test/podinfo': 100 });
  });

  test('the handshake refuses a caller without a client certificate, or with one from another CA', async () => {
    assert.equal(await get({ ca: 'server-ca.pem', cert: 'client.pem', key: 'client-key.pem' }), 200);
    assert.notEqual(await get({ ca: 'server-ca.pem' }), 200);
    assert.notEqual(await get({ ca: 'server-ca.pem', cert: 'stranger.pem', key: 'stranger-key.pem' }), 200);
  });

  test("a client that does not trust the server's CA, or speaks plain HTTP, gets no answer", async () => {
    assert.equal(await get({ ca: 'stranger-ca.pem', cert: 'client.pem', key: 'client-key.pem' }), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const plain = await request(`${hook.server.url.replace('https:', 'http:')}/healthz`).then(
      (r) => r.status,
      (err: Error) => err.message,
    );
    assert.notEqual(plain, 200);
  });

  test('an unreadable or wrong TLS file stops the start, naming the field', async () => {
    const config = (tls: Record<string, string>) => webhookConfig({ listen: { host: '127.0.0.1', port: 0, tls } as never });
    await assert.rejects(
      resolveConfig(config({ certFile: file('missing.pem'), keyFile: file('server-key.pem') }), TEST_ENV),
      /listen\.tls\.certFile: .*missing\.pem is not readable \(ENOENT\)/,
    );
    await assert.rejects(
      resolveConfig(config({ certFile: file('server.pem'), keyFile: file('server.pem') }), TEST_ENV),
      /listen\.tls\.keyFile: .*holds no PEM PRIVATE KEY/,
    );
    await assert.rejects(
      resolveConfig(config({ certFile: 'server.pem', keyFile: file('server-key.pem') }), TEST_ENV),
      /listen\.tls\.certFile: must be an absolute path/,
    );
  });
});
