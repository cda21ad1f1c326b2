/**
 * The webhook server against a real Temporal dev server: status codes for every kind of bad request
 * (and nothing started), signal-with-start exactly once per pair, duplicates, resolutions, Temporal
 * outages (503, then a retry succeeds), junk, health and metrics.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { prepareWebhook } from '../../client/webhook/command';
import { CliError } from '../../client/connection';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { alert, alertSignals, bearer, executions, notificationBody, request, startTestWebhook, TEST_ENV, webhookConfig } from './helpers';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

let pairs = 0;
/** A fresh west cluster name per test, so each test has its own workflow id. */
const freshWest = () => `west${++pairs}-${Math.random().toString(36).slice(2, 6)}`;

async function notFound(workflowId: string): Promise<boolean> {
  return env.client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => false,
      () => true,
    );
}

describe('kubeha webhook', { timeout: 120_000 }, () => {
  test('refuses bad auth and bad bodies with the right 4xx, starting nothing', async () => {
    const west = freshWest();
    const hook = await startTestWebhook(env, webhookConfig({}, west), 'no-worker');
    const workflowId = `failover-${west}-to-east`;
    try {
      const firing = notificationBody('firing');
      const cases: Array<[string, Parameters<typeof request>[1], number, RegExp]> = [
        ['no Authorization', { body: firing }, 401, /missing Authorization/],
        ['wrong token', { body: firing, headers: bearer('nope') }, 401, /wrong bearer token/],
        [
          'basic when only Bearer is configured',
          { body: firing, headers: { Authorization: 'Basic ' + Buffer.from('a:b').toString('base64') } },
          401,
          /scheme "basic" is not accepted/,
        ],
        ['malformed JSON', { body: '{"version": "4", ', headers: bearer() }, 400, /malformed JSON/],
        ['wrong version', { body: { ...firing, version: '3' }, headers: bearer() }, 400, /unsupported webhook version "3"/],
        [
          'missing fields',
          { body: { version: '4', status: 'burning', alerts: [{ labels: {} }] }, headers: bearer() },
          400,
          /groupKey: .*expected string.*status: must be "firing" or "resolved"/,
        ],
        ['not an object', { body: '[1,2,3]', headers: bearer() }, 400, /must be a JSON object/],
        ['too deep', { body: '{"version":"4","x":' + '['.repeat(50) + ']'.repeat(50) + '}', headers: bearer() }, 400, /nests deeper than 16/],
        ['oversized', { body: { ...firing, pad: 'x'.repeat(2 * 1024 * 1024) }, headers: bearer() }, 413, /exceeds the limit/],
        ['not JSON content type', { body: 'a=b', headers: { ...bearer(), 'Content-Type': 'application/x-www-form-urlencoded' } }, 415, /not JSON/],
      ];
      for (const [what, options, status, message] of cases) {
        const reply = await request(hook.url, options);
        assert.equal(reply.status, status, `${what}: ${reply.text}`);
        assert.match(String(reply.json().error), message, what);
      }
      const unauth = await request(hook.url, { body: firing });
      assert.match(String(unauth.headers['www-authenticate']), /^Bearer realm="kubeha"/);
      assert.ok(await notFound(workflowId), 'a refused request started a workflow');
      const metrics = await request(`${hook.server.url}/metrics`);
      assert.match(metrics.text, /kubeha_webhook_requests_total\{outcome="unauthorized"\} 4/);
      assert.match(metrics.text, /kubeha_webhook_requests_total\{outcome="too_large"\} 1/);
      assert.match(metrics.text, /kubeha_webhook_request_duration_seconds_count\{outcome="bad_request"\} 5/);
    } finally {
      await hook.close();
    }
  });

  test('unmatched and ignored alerts get 200 with the reason; a resolution with nothing running starts nothing', async () => {
    const west = freshWest();
    const hook = await startTestWebhook(env, webhookConfig({}, west), 'no-worker');
    try {
      const unknown = await request(hook.url, { body: notificationBody('firing', [alert('firing', { alertname: 'DiskFull' })]), headers: bearer() });
      assert.equal(unknown.status, 200);
      assert.match(String(unknown.json().reason), /1 alert\(s\) match no route/);
      const info = await request(hook.url, {
        body: notificationBody('firing', [alert('firing', { alertname: 'WestDown', severity: 'info' })]),
        headers: bearer(),
      });
      assert.equal(info.status, 200, 'severity=info does not match severity=~"critical|page"');
      const ignored = await request(hook.url, { body: notificationBody('firing', [alert('firing', { alertname: 'Watchdog' })]), headers: bearer() });
      assert.equal(ignored.status, 200);
      assert.match(String(ignored.json().reason), /ignored by route watchdog: the dead man's switch/);
      const resolved = await request(hook.url, { body: notificationBody('resolved'), headers: bearer() });
      assert.equal(resolved.status, 200);
      assert.match(String(resolved.json().reason), /no failover is running/);
      assert.ok(await notFound(`failover-${west}-to-east`));
    } finally {
      await hook.close();
    }
  });

  test('a firing alert is accepted with 202 and the workflow id; duplicates and repeats signal the one execution', async () => {
    const west = freshWest();
    const workflowId = `failover-${west}-to-east`;
    const hook = await startTestWebhook(env, webhookConfig({ dedupeSeconds: 0 }, west), `q-${west}`);
    try {
      const first = await request(hook.url, { body: notificationBody('firing'), headers: bearer() });
      assert.equal(first.status, 202, first.text);
      assert.deepEqual(first.json().accepted, [{ route: 'west-down', workflowId, kind: 'signal_with_start', deduplicated: false }]);
      const again = await Promise.all(Array.from({ length: 5 }, () => request(hook.url, { body: notificationBody('firing'), headers: bearer() })));
      assert.deepEqual(
        again.map((r) => r.status),
        [202, 202, 202, 202, 202],
      );
      assert.equal(await executions(env, workflowId), 1);
      // With dedupe off, each delivery (Alertmanager's duplicates and repeats) is one more signal.
      assert.ok((await alertSignals(env, workflowId)) >= 2, 'duplicates were not signalled');
      const resolved = await request(hook.url, { body: notificationBody('resolved'), headers: bearer() });
      assert.equal(resolved.status, 202);
      assert.equal((resolved.json().accepted as Array<{ kind: string }>)[0].kind, 'signal');
      assert.equal(await executions(env, workflowId), 1);
      await env.client.workflow.getHandle(workflowId).terminate('test over');
    } finally {
      await hook.close();
    }
  });

  test('identical deliveries within the dedupe window cost one signal', async () => {
    const west = freshWest();
    const workflowId = `failover-${west}-to-east`;
    const hook = await startTestWebhook(env, webhookConfig({ dedupeSeconds: 30 }, west), `q-${west}`);
    try {
      const replies = await Promise.all(Array.from({ length: 50 }, () => request(hook.url, { body: notificationBody('firing'), headers: bearer() })));
      assert.ok(replies.every((r) => r.status === 202));
      assert.equal(replies.filter((r) => (r.json().accepted as Array<{ deduplicated: boolean }>)[0].deduplicated === false).length, 1);
      assert.equal(await alertSignals(env, workflowId), 1);
      assert.equal(await executions(env, workflowId), 1);
      const metrics = await request(`${hook.server.url}/metrics`);
      assert.match(metrics.text, /kubeha_webhook_dispatches_total\{route="west-down",kind="deduplicated"\} 49/);
      await env.client.workflow.getHandle(workflowId).terminate('test over');
    } finally {
      await hook.close();
    }
  });

  test('Temporal down gives 503 (Alertmanager retries); the retry once it is back starts the failover', async () => {
    const west = freshWest();
    const workflowId = `failover-${west}-to-east`;
    const hook = await startTestWebhook(env, webhookConfig({}, west), `q-${west}`, 1500);
    try {
      await hook.relay.stop();
      const down = await request(hook.url, { body: notificationBody('firing'), headers: bearer() });
      assert.equal(down.status, 503, down.text);
      assert.equal(down.headers['retry-after'], '5');
      const notReady = await request(`${hook.server.url}/readyz`);
      assert.equal(notReady.status, 503);
      assert.ok(await notFound(workflowId));
      await hook.relay.start();
      const retried = await eventually(
        async () => {
          const r = await request(hook.url, { body: notificationBody('firing'), headers: bearer() });
          return r.status === 202 ? r : undefined;
        },
        30_000,
        'a retry to be accepted',
      );
      assert.equal((retried.json().accepted as Array<{ workflowId: string }>)[0].workflowId, workflowId);
      assert.equal(await executions(env, workflowId), 1);
      assert.equal((await request(`${hook.server.url}/readyz`)).status, 200);
      await env.client.workflow.getHandle(workflowId).terminate('test over');
    } finally {
      await hook.close();
    }
  });

  test('basic auth works when configured; health and 404/405 answers; junk does not bring the server down', async () => {
    const west = freshWest();
    const config = webhookConfig({ auth: { basic: { username: 'alertmanager', password: { env: 'KUBEHA_TEST_BASIC_PASSWORD' } } } }, west);
    const hook = await startTestWebhook(env, config, `q-${west}`);
    try {
      const basic = (user: string, pass: string) => ({ Authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') });
      assert.equal((await request(hook.url, { body: notificationBody('resolved'), headers: basic('alertmanager', 'wrong') })).status, 401);
      assert.equal(
        (await request(hook.url, { body: notificationBody('resolved'), headers: basic('someone', TEST_ENV.KUBEHA_TEST_BASIC_PASSWORD) })).status,
        401,
      );
      assert.equal(
        (await request(hook.url, { body: notificationBody('resolved'), headers: basic('alertmanager', TEST_ENV.KUBEHA_TEST_BASIC_PASSWORD) })).status,
        200,
      );
      assert.equal((await request(hook.url, { method: 'GET' })).status, 405);
      assert.equal((await request(`${hook.server.url}/nope`)).status, 404);
      // Raw junk on the socket: the server answers 400 and keeps serving.
      const junk = await new Promise<string>((resolve) => {
        const socket = net.connect(hook.server.port, '127.0.0.1', () => socket.end('\x00\x01GARBAGE \r\n\r\n'));
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
      assert.match(junk, /^HTTP\/1.1 400/);
      for (let i = 0; i < 20; i++) {
        const bytes = Buffer.from(Array.from({ length: 200 }, () => Math.floor(Math.random() * 256)));
        const r = await request(hook.url, { body: bytes, headers: basic('alertmanager', TEST_ENV.KUBEHA_TEST_BASIC_PASSWORD) });
        assert.equal(r.status, 400);
      }
      const health = await request(`${hook.server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(health.json(), { status: 'ok' });
    } finally {
      await hook.close();
    }
  });

  test('without authentication the server refuses to start unless explicitly insecure', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-webhook-'));
    try {
      const file = path.join(dir, 'webhook.json');
      await writeFile(file, JSON.stringify(webhookConfig({ auth: {} })));
      await assert.rejects(
        prepareWebhook({ config: file, insecureNoAuth: false }),
        (err) => err instanceof CliError && err.exitCode === 2 && /refusing to start: no authentication/.test(err.message),
      );
      const config = await prepareWebhook({ config: file, insecureNoAuth: true });
      assert.equal(config.routes.length, 2);
      const tokenFile = path.join(dir, 'token');
      await writeFile(tokenFile, 'from-a-file\n', { mode: 0o600 });
      await writeFile(file, JSON.stringify(webhookConfig({ auth: { bearerToken: { file: tokenFile } } })));
      assert.equal((await prepareWebhook({ config: file, insecureNoAuth: false })).auth.bearerToken, 'from-a-file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
