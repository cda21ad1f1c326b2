/**
 * Generated requests for `kubeha webhook` and the answers its documentation allows for each (server.ts:
 * 202 accepted, 200 nothing to do, 400/401/405/413/415 refused, 404 unknown path, 200 health, metrics
 * and readiness; 503 only with Temporal down, which this campaign never is). Every request carries,
 * besides its bytes, what it is (valid and routed, authorised, within limits...) so the expected
 * status comes from the request's construction, not from the server's code.
 */
import fc from 'fast-check';
import { TEST_ENV, TOKEN } from '../webhook/helpers';
import { type FuzzRequest, sendsUnframedBody } from './fuzzHttp';
import { bodyArb, printable, type WebhookBodyKind } from './fuzzWebhookBodies';

export { MAX_BODY_BYTES, ROUTED_ALERT, type WebhookBodyKind } from './fuzzWebhookBodies';

/** The basic-auth user name the campaign's configuration accepts. */
export const BASIC_USER = 'alertmanager';
/** A generated webhook request and the facts the oracle needs. */
export interface WebhookCase extends FuzzRequest {
  route: 'alertmanager' | 'healthz' | 'readyz' | 'metrics' | 'other';
  authorised: boolean;
  /** Content-Type: absent, JSON, or something else. */
  contentType: 'absent' | 'json' | 'other';
  bodyKind: WebhookBodyKind;
  /** The headers are larger than node's limit: the parser refuses the request. */
  hugeHeaders: boolean;
  /** The method is not one HTTP knows: the parser refuses the request. */
  unknownMethod: boolean;
  /** Body length, known without building it. */
  bodyBytes: number;
}

const PATHS: Array<[string, WebhookCase['route']]> = [
  ['/v1/alertmanager', 'alertmanager'],
  ['/v1/alertmanager?receiver=kubeha', 'alertmanager'],
  ['/healthz', 'healthz'],
  ['/readyz', 'readyz'],
  ['/metrics', 'metrics'],
  ['/', 'other'],
  ['/v1/alertmanager/', 'other'],
  ['/V1/ALERTMANAGER', 'other'],
  ['/v1/alertmanager#x', 'other'],
  ['/v1/alertmanager/../healthz', 'other'],
  ['//[', 'other'],
  ['/%', 'other'],
  ['*', 'other'],
  ['http://evil.example/v1/alertmanager', 'other'],
  ['/../../etc/passwd', 'other'],
];

const pathArb: fc.Arbitrary<[string, WebhookCase['route']]> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(PATHS[0]) },
  { weight: 4, arbitrary: fc.constantFrom(...PATHS.slice(1)) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9%._~-]{0,40}$/).map((s): [string, WebhookCase['route']] => [`/fz${s}`, 'other']) },
);

const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'];
const methodArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant('POST') },
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_METHODS) },
  { weight: 1, arbitrary: fc.constantFrom('FUZZ', 'BREW', 'X-SCAN') },
);

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Authorization header (or none) and whether it is right. */
const authArb: fc.Arbitrary<{ header?: string; ok: boolean }> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.constantFrom(
      { header: `Bearer ${TOKEN}`, ok: true },
      { header: `bearer ${TOKEN}`, ok: true },
      { header: basic(BASIC_USER, TEST_ENV.KUBEHA_TEST_BASIC_PASSWORD), ok: true },
    ),
  },
  { weight: 2, arbitrary: fc.constant({ ok: false }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      { header: 'Bearer wrong-token', ok: false },
      { header: 'Bearer', ok: false },
      { header: `Bearer ${TOKEN}x`, ok: false },
      { header: basic(BASIC_USER, 'wrong'), ok: false },
      { header: basic('root', TEST_ENV.KUBEHA_TEST_BASIC_PASSWORD), ok: false },
      { header: 'Basic !!!not-base64!!!', ok: false },
      { header: 'Digest username="alertmanager"', ok: false },
      { header: `Bearer ${'A'.repeat(8000)}`, ok: false },
    ),
  },
  {
    weight: 1,
    arbitrary: printable(200)
      .filter((s) => s.length > 0)
      .map((header) => ({ header, ok: false })),
  },
);

const contentTypeArb: fc.Arbitrary<{ header?: string; kind: WebhookCase['contentType'] }> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      { header: 'application/json', kind: 'json' as const },
      { header: 'application/json; charset=utf-8', kind: 'json' as const },
      { header: 'application/vnd.alertmanager+json', kind: 'json' as const },
    ),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'absent' as const }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      { header: 'text/plain', kind: 'other' as const },
      { header: 'application/x-www-form-urlencoded', kind: 'other' as const },
      { header: 'multipart/form-data; boundary=x', kind: 'other' as const },
      { header: 'jsonp', kind: 'other' as const },
    ),
  },
);

/** Extra headers: noise, a few known ones, or one too large for the parser. */
const extraHeadersArb: fc.Arbitrary<{ headers: Record<string, string>; huge: boolean }> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.dictionary(fc.stringMatching(/^x-fz-[a-z0-9-]{1,20}$/), printable(100), { maxKeys: 8 }).map((headers) => ({ headers, huge: false })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        Origin: fc.constantFrom('http://127.0.0.1:8233', 'null', 'http://evil.example'),
        'X-Namespace': fc.constantFrom('default', 'other'),
        Cookie: printable(60),
      })
      .map((headers) => ({ headers, huge: false })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }).map((n) => ({ headers: { 'x-fz-big': 'h'.repeat(n) }, huge: true })) },
);

const framingArb = fc.constantFrom<'length' | 'chunked' | 'none'>('length', 'length', 'chunked', 'none');
const noisyHeadersArb = fc.dictionary(fc.stringMatching(/^x-fz-[a-z0-9-]{1,20}$/), printable(100), { maxKeys: 8 }).map((headers) => ({ headers, huge: false }));

/** Anything: every method, target, credential and content type. */
const anyRequest = fc.record({
  method: methodArb,
  path: pathArb,
  auth: authArb,
  contentType: contentTypeArb,
  extra: extraHeadersArb,
  body: bodyArb,
  framing: framingArb,
});

/** What Alertmanager itself would send (POST, the path, good credentials), so that every body reaches the parser. */
const aimedRequest = fc.record({
  method: fc.constant('POST'),
  path: fc.constantFrom(PATHS[0], PATHS[1]),
  auth: authArb.filter((a) => a.ok),
  contentType: contentTypeArb.filter((c) => c.kind !== 'other'),
  extra: noisyHeadersArb,
  body: bodyArb,
  framing: framingArb,
});

/** Generated webhook requests: half aimed at the body parser, half anything. */
export const webhookCaseArb: fc.Arbitrary<WebhookCase> = fc.oneof(anyRequest, aimedRequest).map(({ method, path, auth, contentType, extra, body, framing }) => {
  const headers: Record<string, string> = { ...extra.headers };
  if (auth.header !== undefined) headers.Authorization = auth.header;
  if (contentType.header !== undefined) headers['Content-Type'] = contentType.header;
  return {
    method,
    path: path[0],
    route: path[1],
    headers,
    body: body.build,
    framing,
    authorised: auth.ok,
    contentType: contentType.kind,
    bodyKind: body.kind,
    hugeHeaders: extra.huge,
    unknownMethod: !KNOWN_METHODS.includes(method),
    bodyBytes: body.bytes,
  };
});

/** The statuses the webhook may answer to this request. */
export function expectedWebhookStatuses(c: WebhookCase): number[] {
  const statuses = routeStatuses(c);
  // Bytes after the request are a malformed next request: refused with 400, unless the answer to this one went out first.
  return sendsUnframedBody(c, c.bodyBytes) && !statuses.includes(400) ? [...statuses, 400] : statuses;
}

function routeStatuses(c: WebhookCase): number[] {
  if (c.unknownMethod) return [400];
  if (c.hugeHeaders) return [400, 431];
  if (c.route === 'alertmanager') {
    if (c.method !== 'POST') return [405];
    if (!c.authorised) return [401];
    if (c.contentType === 'other') return [415];
    switch (c.bodyKind) {
      case 'oversized':
        return [413];
      case 'valid-unmatched':
      case 'valid-ignored':
        return [200];
      case 'valid-routed-firing':
        return [202];
      case 'valid-routed-resolved':
        // 200 while no failover runs; 202 once a routed firing alert started one.
        return [200, 202];
      default:
        return [400];
    }
  }
  if (c.method !== 'GET' && c.method !== 'HEAD') return [405];
  return c.route === 'other' ? [404] : [200];
}

/** Whether the server may close the connection before the client finished sending (an early refusal). */
export function mayCloseEarly(c: WebhookCase, statuses: number[]): boolean {
  return (
    c.hugeHeaders ||
    c.unknownMethod ||
    sendsUnframedBody(c, c.bodyBytes) ||
    (c.bodyBytes > 0 && statuses.some((s) => s === 401 || s === 413 || s === 415 || s === 405))
  );
}

/** Whether the server reads this request's body in full (what a leak of bodies would keep). */
export function bodyIsRead(c: WebhookCase, statuses: number[]): boolean {
  return (
    c.route === 'alertmanager' && c.bodyKind !== 'oversized' && statuses.some((s) => s === 200 || s === 202 || s === 400) && !c.unknownMethod && !c.hugeHeaders
  );
}
