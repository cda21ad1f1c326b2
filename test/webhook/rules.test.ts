/**
 * The webhook's rules without a server: matchers, credentials, body limits and schema, routing,
 * configuration validation, and the metrics' text format.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { checkAuthorization } from '../../client/webhook/auth';
import { resolveConfig } from '../../client/webhook/config';
import { planRoutes } from '../../client/webhook/dispatch';
import { matchesAll, parseMatcher } from '../../common/alertMatchers';
import { WebhookMetrics } from '../../client/webhook/metrics';
import { jsonDepth, PayloadError, parseNotification } from '../../client/webhook/payload';
import { alert, notificationBody, routeFailover, TEST_ENV, TOKEN, webhookConfig } from './helpers';

const limits = { maxJsonDepth: 16, maxAlerts: 3 };
const parse = (body: unknown) => parseNotification(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), limits);

function payloadError(fn: () => unknown): PayloadError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PayloadError, String(err));
    return err;
  }
  assert.fail('expected a PayloadError');
}

describe('matchers', () => {
  test('parse Alertmanager syntax and match anchored, missing labels as ""', () => {
    const m = ['alertname="WestDown"', 'severity=~"critical|page"', 'cluster!="east"', 'team!~"db.*"'].map(parseMatcher);
    assert.equal(matchesAll(m, { alertname: 'WestDown', severity: 'critical', cluster: 'west' }), true);
    assert.equal(matchesAll(m, { alertname: 'WestDown', severity: 'critical-ish' }), false, 'regex is anchored');
    assert.equal(matchesAll(m, { alertname: 'WestDown', severity: 'page', cluster: 'east' }), false);
    assert.equal(matchesAll(m, { alertname: 'WestDown', severity: 'page', team: 'dba' }), false);
    assert.equal(matchesAll([parseMatcher('missing=""')], {}), true);
    assert.equal(parseMatcher('a="quote \\" inside"').value, 'quote " inside');
    assert.throws(() => parseMatcher('alertname WestDown'), /is not a matcher like/);
    assert.throws(() => parseMatcher('a=~"("'), /invalid regular expression/);
  });
});

describe('authorization', () => {
  const auth = { bearerToken: TOKEN, basic: { username: 'am', password: 'pw' } };
  test('accepts the right Bearer token or basic credentials and nothing else', () => {
    assert.deepEqual(checkAuthorization(`Bearer ${TOKEN}`, auth), { ok: true, as: 'bearer' });
    assert.deepEqual(checkAuthorization(`bearer ${TOKEN}`, auth), { ok: true, as: 'bearer' });
    assert.deepEqual(checkAuthorization(`Basic ${Buffer.from('am:pw').toString('base64')}`, auth), { ok: true, as: 'basic' });
    assert.equal(checkAuthorization(`Bearer ${TOKEN}x`, auth).ok, false);
    assert.equal(checkAuthorization(`Bearer ${TOKEN.slice(0, -1)}`, auth).ok, false);
    assert.equal(checkAuthorization('Bearer', auth).ok, false);
    assert.equal(checkAuthorization(`Basic ${Buffer.from('am:pw:').toString('base64')}`, auth).ok, false);
    assert.equal(checkAuthorization(`Basic ${Buffer.from('am').toString('base64')}`, auth).ok, false);
    assert.equal(checkAuthorization(`Token ${TOKEN}`, auth).ok, false);
    assert.equal(checkAuthorization(undefined, auth).ok, false);
    assert.deepEqual(checkAuthorization(undefined, {}), { ok: true, as: 'none' });
  });
});

describe('notification body', () => {
  test('a version 4 body parses', () => {
    const n = parse(notificationBody('firing'));
    assert.equal(n.status, 'firing');
    assert.equal(n.alerts[0].fingerprint, 'a1b2c3d4e5f60718');
  });

  test('each kind of bad body is refused with a clear 400', () => {
    assert.match(payloadError(() => parse('')).message, /empty body/);
    assert.match(payloadError(() => parse('{"a":')).message, /malformed JSON/);
    assert.match(payloadError(() => parse({ ...notificationBody('firing'), version: 4 })).message, /unsupported webhook version 4/);
    assert.equal(payloadError(() => parse({ ...notificationBody('firing'), version: '5' })).outcome, 'bad_version');
    const tooMany = payloadError(() => parse(notificationBody('firing', [alert('firing'), alert('firing'), alert('firing'), alert('firing')])));
    assert.match(tooMany.message, /alerts: has more than 3 alerts; set max_alerts/);
    const fields = payloadError(() => parse({ ...notificationBody('firing'), alerts: [{ ...alert('firing'), fingerprint: '', labels: { a: 1 } }] }));
    assert.match(fields.message, /alerts\[0\]\.labels\.a/);
    assert.match(fields.message, /alerts\[0\]\.fingerprint: must be Alertmanager's alert fingerprint/);
    assert.equal(fields.status, 400);
  });

  test('nesting is measured without parsing, ignoring brackets inside strings', () => {
    assert.equal(jsonDepth('{"a":[{"b":"[[[[{{{{"}]}', 100), 3);
    assert.equal(jsonDepth('{"a":"\\"[["}', 100), 1);
    assert.ok(jsonDepth('['.repeat(100000), 16) > 16);
    assert.match(payloadError(() => parse('['.repeat(100000))).message, /nests deeper than 16/);
  });
});

describe('routing', () => {
  test('each alert goes to its first matching route; ignored and unmatched are counted', async () => {
    const config = await resolveConfig(webhookConfig(), TEST_ENV);
    const n = parse(
      notificationBody('firing', [alert('firing'), alert('firing', { alertname: 'Watchdog' }, 'ff'), alert('firing', { alertname: 'Other' }, 'ee')]),
    );
    const plan = planRoutes(n, config.routes);
    assert.deepEqual(
      plan.failovers.map((f) => [f.route.name, f.route.workflowId, f.alerts.length]),
      [['west-down', 'failover-west-to-east', 1]],
    );
    assert.deepEqual(
      plan.ignored.map((i) => [i.route, i.alerts]),
      [['watchdog', 1]],
    );
    assert.equal(plan.unmatched, 1);
  });
});

describe('configuration', () => {
  async function invalid(raw: unknown): Promise<string> {
    try {
      await resolveConfig(raw, TEST_ENV);
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'InvalidInput');
      return err.message;
    }
    return assert.fail('expected an invalid configuration');
  }

  test("names every bad field, down into the route's FailoverToEast input", async () => {
    const bad = webhookConfig({
      routes: [
        { name: 'West_Down', matchers: ['alertname WestDown'], action: 'failover', failover: { ...routeFailover(), steps: [50, 90] } },
        { name: 'x', matchers: [], action: 'page' },
      ],
    } as never);
    const message = await invalid(bad);
    assert.match(message, /routes\[0\]\.name: must be a DNS-1123 label/);
    assert.match(message, /routes\[0\]\.matchers\[0\]: "alertname WestDown" is not a matcher/);
    assert.match(message, /routes\[0\]\.failover\.steps: must end at 100/);
    assert.match(message, /routes\[1\]/);
  });

  test("a route's GTM section is checked at start: hosted zone, TTL, a target shared by both sides, a record outside the zone", async () => {
    const gtm = {
      hostedZoneId: 'Z0EXAMPLE',
      zoneName: 'example.com',
      recordName: 'podinfo.example.org',
      ttl: 100_000,
      west: { values: ['10.0.0.1'] },
      east: { values: ['10.0.0.1'] },
    };
    const failover = routeFailover();
    const services = [{ ...(failover.services as object[])[0], gtm: { ...gtm, hostedZoneId: 'example.com' } }];
    const message = await invalid(
      webhookConfig({ routes: [{ name: 'west-down', matchers: ['alertname="WestDown"'], action: 'failover', failover: { ...failover, services } }] }),
    );
    assert.match(message, /routes\[0\]\.failover\.services\[0\]\.gtm\.hostedZoneId: must be a Route 53 hosted zone id/);
    assert.match(message, /routes\[0\]\.failover\.services\[0\]\.gtm\.ttl: must be at most 86400 seconds/);
    const inZone = [{ ...(failover.services as object[])[0], gtm: { ...gtm, ttl: 60 } }];
    const second = await invalid(
      webhookConfig({ routes: [{ name: 'west-down', matchers: ['alertname="WestDown"'], action: 'failover', failover: { ...failover, services: inZone } }] }),
    );
    assert.match(second, /routes\[0\]\.failover\.services\[0\]\.gtm\.recordName: must be inside the hosted zone/);
    assert.match(second, /routes\[0\]\.failover\.services\[0\]\.gtm\.east\.values: must differ from west/);
  });

  test('two routes for one pair must carry the same failover', async () => {
    const other = { ...routeFailover(), steps: [100] };
    const message = await invalid(
      webhookConfig({
        routes: [
          { name: 'a', matchers: ['alertname="A"'], action: 'failover', failover: routeFailover() },
          { name: 'b', matchers: ['alertname="B"'], action: 'failover', failover: other },
        ],
      }),
    );
    assert.match(message, /routes\[1\]\.failover: differs from routes\[0\]\.failover for the same pair west → east/);
  });

  test('a missing secret stops the start with its name, never its value', async () => {
    await assert.rejects(
      resolveConfig(webhookConfig({ auth: { bearerToken: { env: 'KUBEHA_NOT_SET_ANYWHERE' } } }), {}),
      /environment variable KUBEHA_NOT_SET_ANYWHERE is not set/,
    );
    await assert.rejects(
      resolveConfig(webhookConfig({ auth: { bearerToken: { file: '/nonexistent/token' } } }), {}),
      /secret file \/nonexistent\/token is not readable \(ENOENT\)/,
    );
    await assert.rejects(resolveConfig(webhookConfig({ auth: { bearerToken: { env: 'EMPTY' } } }), { EMPTY: '' }), /is empty/);
  });
});

describe('metrics', () => {
  test('renders counters and a cumulative histogram in the text format', () => {
    const m = new WebhookMetrics();
    m.record('accepted', 0.003);
    m.record('accepted', 0.2);
    m.record('unauthorized', 0.0005);
    m.dispatches.inc({ route: 'west-down', kind: 'signal_with_start' });
    const text = m.render();
    assert.match(text, /# TYPE kubeha_webhook_requests_total counter/);
    assert.match(text, /kubeha_webhook_requests_total\{outcome="accepted"\} 2/);
    assert.match(text, /kubeha_webhook_request_duration_seconds_bucket\{outcome="accepted",le="0.005"\} 1/);
    assert.match(text, /kubeha_webhook_request_duration_seconds_bucket\{outcome="accepted",le="0.25"\} 2/);
    assert.match(text, /kubeha_webhook_request_duration_seconds_bucket\{outcome="accepted",le="\+Inf"\} 2/);
    assert.match(text, /kubeha_webhook_request_duration_seconds_count\{outcome="unauthorized"\} 1/);
    assert.match(text, /kubeha_webhook_dispatches_total\{route="west-down",kind="signal_with_start"\} 1/);
    assert.ok(text.endsWith('\n'));
  });
});
