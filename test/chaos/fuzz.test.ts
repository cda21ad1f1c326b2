/**
 * Fuzz campaigns against the two servers that face the network, each started in process on an
 * ephemeral port in front of a real Temporal dev server: at least 1,000 generated requests each
 * (fast-check: random methods, request targets, headers with and without credentials, bodies of junk
 * bytes, deep JSON, huge strings, Alertmanager- or Payloads-shaped documents with wrong fields or
 * versions). Every answer must be one the server documents for that kind of request (never a 5xx
 * while Temporal is up), the servers must keep answering, the webhook must start nothing but the one
 * failover a valid, authorised, routed alert asks for, and retained memory must stay flat.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { AccessCheck } from '../../client/codec/access';
import { type CodecServer, startCodecServer } from '../../client/codecServer';
import { resolveConfig, type WebhookConfigFile } from '../../client/webhook/config';
import { startWebhookServer, type WebhookServer } from '../../client/webhook/server';
import { failoverWorkflowId } from '../../common/inputs/failoverToEast';
import { dataConverterFor } from '../../lib/codec/dataConverter';
import { EncryptionCodec } from '../../lib/codec/encryptionCodec';
import { generateKey, keyringOf } from '../../lib/codec/keyring';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { alertSignals, routeFailover, TEST_ENV } from '../webhook/helpers';
import { codecBodyIsRead, codecCaseArb, type CodecCase, codecMayCloseEarly, expectedCodecStatuses, NAMESPACE, UI_ORIGIN } from './fuzzCodec';
import { forceGc, type FuzzReply, mib, retainedBytes, sendRaw, Tally } from './fuzzHttp';
import { BASIC_USER, bodyIsRead, expectedWebhookStatuses, mayCloseEarly, ROUTED_ALERT, webhookCaseArb, type WebhookCase } from './fuzzWebhook';

/** Generated requests per server (the brief: at least 1,000). */
const RUNS = 1000;
/** Requests sent before the memory baseline, so that lazily built state (schemas, metrics) is already there. */
const WARM_UP = 60;
/** A leak of the bodies read would keep at least this share of them; flat memory stays far below. */
const LEAK_SHARE = 4;
/** Bodies read must add up to this much, or the memory check could not see a leak of them. */
const MIN_BODY_BYTES_READ = 32 * 1024 * 1024;
/** Same seed, same requests: a failure replays with `KUBEHA_FUZZ_SEED`. */
const SEED = Number(process.env.KUBEHA_FUZZ_SEED ?? Date.now() % 2 ** 31);

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

/** What a campaign saw. */
class CampaignStats {
  readonly statuses = new Tally();
  readonly kinds = new Tally();
  readonly earlyCloses = new Tally();
  bodyBytesRead = 0;
  requests = 0;
}

/** Checks one reply against the statuses the oracle allows; a reset is accepted only for an early refusal. */
function checkReply(what: string, reply: FuzzReply, expected: number[], mayCloseEarly: boolean, stats: CampaignStats): void {
  stats.requests++;
  if ('error' in reply) {
    assert.ok(mayCloseEarly && /^(ECONNRESET|EPIPE)$/.test(reply.error), `${what}: no answer (${reply.error}); expected ${expected.join('|')}`);
    stats.earlyCloses.add(reply.error);
    stats.statuses.add('closed-early');
    return;
  }
  stats.statuses.add(reply.status);
  assert.ok(reply.status < 500, `${what}: ${reply.status} ${reply.text.slice(0, 300)}`);
  assert.ok(expected.includes(reply.status), `${what}: ${reply.status} ${reply.text.slice(0, 300)}; expected ${expected.join('|')}`);
}

const describeCase = (c: { method: string; path: string; bodyKind: string; bodyBytes: number; framing?: string }) =>
  `${c.method} ${c.path.slice(0, 60)} body=${c.bodyKind}(${c.bodyBytes} B, framing ${c.framing ?? 'length'})`;

/** Runs `RUNS` generated requests (after a warm-up) and returns the stats with the memory figures. */
async function campaign<C extends { method: string; path: string; bodyKind: string; bodyBytes: number }>(
  arbitrary: fc.Arbitrary<C>,
  sendOne: (c: C, stats: CampaignStats) => Promise<void>,
): Promise<{ stats: CampaignStats; before: ReturnType<typeof retainedBytes>; after: ReturnType<typeof retainedBytes>; gc: string }> {
  const warmUp = new CampaignStats();
  for (const c of fc.sample(arbitrary, { numRuns: WARM_UP, seed: SEED + 1 })) await sendOne(c, warmUp);
  const gc = forceGc();
  const before = retainedBytes();
  const stats = new CampaignStats();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (c) => {
      stats.kinds.add(c.bodyKind);
      await sendOne(c, stats);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  forceGc();
  const after = retainedBytes();
  return { stats, before, after, gc };
}

function assertFlatMemory(stats: CampaignStats, before: ReturnType<typeof retainedBytes>, after: ReturnType<typeof retainedBytes>): void {
  assert.ok(stats.bodyBytesRead >= MIN_BODY_BYTES_READ, `only ${mib(stats.bodyBytesRead)} of bodies read: too little for the memory check to see a leak`);
  const growth = after.total - before.total;
  assert.ok(growth < stats.bodyBytesRead / LEAK_SHARE, `retained memory grew by ${mib(growth)} over ${mib(stats.bodyBytesRead)} of bodies read`);
}

describe('fuzz campaigns against the network-facing servers', { timeout: 900_000 }, () => {
  test(`webhook: ${RUNS} generated requests get documented answers, start nothing unasked, and memory stays flat`, async (t) => {
    const west = `fuzzwest-${randomUUID().slice(0, 6)}`;
    const workflowId = failoverWorkflowId(west, 'east');
    // No worker polls this queue: a started failover stays where it is, and is counted.
    const taskQueue = `fuzz-no-worker-${randomUUID()}`;
    const { codec } = dataConverterFor(keyringOf([generateKey()]));
    const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: { payloadCodecs: [codec] } });
    const file: WebhookConfigFile = {
      listen: { host: '127.0.0.1', port: 0 },
      auth: { bearerToken: { env: 'KUBEHA_TEST_WEBHOOK_TOKEN' }, basic: { username: BASIC_USER, password: { env: 'KUBEHA_TEST_BASIC_PASSWORD' } } },
      dedupeSeconds: 10,
      routes: [
        { name: 'west-down', matchers: [`alertname="${ROUTED_ALERT}"`, 'severity="critical"'], action: 'failover', failover: routeFailover(west) },
        { name: 'watchdog', matchers: ['alertname="Watchdog"'], action: 'ignore', reason: "the dead man's switch" },
      ],
    };
    const server: WebhookServer = await startWebhookServer({ config: await resolveConfig(file, TEST_ENV), client, taskQueue });
    let routedFiring = 0;
    let accepted = 0;
    try {
      const { stats, before, after, gc } = await campaign(webhookCaseArb, async (c: WebhookCase, s) => {
        const expected = expectedWebhookStatuses(c);
        const body = c.body?.();
        const reply = await sendRaw(server.url, c, body);
        checkReply(describeCase(c), reply, expected, mayCloseEarly(c, expected), s);
        if (bodyIsRead(c, expected)) s.bodyBytesRead += c.bodyBytes;
        if (expected.length === 1 && expected[0] === 202) routedFiring++;
        if (!('error' in reply) && reply.status === 202) accepted++;
      });
      const health = await sendRaw(server.url, { method: 'GET', path: '/healthz', headers: {} }, undefined);
      assert.ok(!('error' in health) && health.status === 200, 'the webhook still answers /healthz after the campaign');
      const ready = await sendRaw(server.url, { method: 'GET', path: '/readyz', headers: {} }, undefined);
      assert.ok(!('error' in ready) && ready.status === 200, 'the webhook still reaches Temporal after the campaign');

      // Nothing started but the route's one failover, and only when a routed firing alert was sent.
      const ids = new Set<string>();
      const list = async () => {
        ids.clear();
        for await (const run of env.client.workflow.list()) ids.add(run.workflowId);
        return ids;
      };
      if (routedFiring > 0) await eventually(async () => (await list()).has(workflowId), 20_000, `the failover ${workflowId} to be listed`);
      else await list();
      assert.deepEqual([...ids], routedFiring > 0 ? [workflowId] : [], 'workflow executions on the dev server');
      const signals = routedFiring > 0 ? await alertSignals(env, workflowId) : 0;
      assert.ok(signals <= accepted, `${signals} alert signals for ${accepted} accepted deliveries`);
      if (routedFiring > 0) assert.ok(signals >= 1, 'the accepted firing alerts reached the failover');

      assertFlatMemory(stats, before, after);
      const metrics = await sendRaw(server.url, { method: 'GET', path: '/metrics', headers: {} }, undefined);
      const served = !('error' in metrics) ? (/kubeha_webhook_requests_total\{outcome="error"\} (\d+)/.exec(metrics.text)?.[1] ?? '0') : '?';
      t.diagnostic(
        `webhook: ${stats.requests} requests (seed ${SEED}, warm-up ${WARM_UP}); statuses ${stats.statuses}; bodies ${stats.kinds}; early closes ${stats.earlyCloses.toString() || 'none'}; internal errors counted by the server ${served}`,
      );
      t.diagnostic(`webhook: ${routedFiring} valid routed firing deliveries, ${accepted} answered 202, ${signals} alert signals, executions ${ids.size}`);
      t.diagnostic(
        `webhook memory (${gc}): heap ${mib(before.heapUsed)} -> ${mib(after.heapUsed)}, array buffers ${mib(before.arrayBuffers)} -> ${mib(after.arrayBuffers)}; bodies read ${mib(stats.bodyBytesRead)}`,
      );
    } finally {
      await server.close();
    }
  });

  test(`codec server: ${RUNS} generated requests get documented answers and memory stays flat`, async (t) => {
    const token = `fuzz-token-${randomUUID()}`;
    const codec = new EncryptionCodec(keyringOf([generateKey()]));
    const keys = { codec, foreign: new EncryptionCodec(keyringOf([generateKey()])), token, session: new AccessCheck(token).sessionValue() };
    const server: CodecServer = await startCodecServer({ codec, token, port: 0, allowedOrigins: [UI_ORIGIN], namespaces: [NAMESPACE] });
    try {
      const { stats, before, after, gc } = await campaign(codecCaseArb(keys), async (c: CodecCase, s) => {
        const expected = expectedCodecStatuses(c);
        const reply = await sendRaw(server.url, c, c.body?.());
        checkReply(describeCase(c), reply, expected, codecMayCloseEarly(c, expected), s);
        if (codecBodyIsRead(c, expected)) s.bodyBytesRead += c.bodyBytes;
      });
      const health = await sendRaw(server.url, { method: 'GET', path: '/health', headers: {} }, undefined);
      assert.ok(!('error' in health) && health.status === 200, 'the codec server still answers /health after the campaign');
      assertFlatMemory(stats, before, after);
      t.diagnostic(
        `codec server: ${stats.requests} requests (seed ${SEED}, warm-up ${WARM_UP}); statuses ${stats.statuses}; bodies ${stats.kinds}; early closes ${stats.earlyCloses.toString() || 'none'}`,
      );
      t.diagnostic(
        `codec server memory (${gc}): heap ${mib(before.heapUsed)} -> ${mib(after.heapUsed)}, array buffers ${mib(before.arrayBuffers)} -> ${mib(after.arrayBuffers)}; bodies read ${mib(stats.bodyBytesRead)}`,
      );
    } finally {
      await server.close();
    }
  });
});
