/**
 * Generated requests for `kubeha webhook` and the answers its documentation allows for each (server.ts:
 * 202 accepted, 200 nothing to do, 400/401/405/413/415 refused, 404 unknown path, 200 health, metrics
 * and readiness; 503 only with Temporal down, which this campaign never is). Every request carries,
 * besides its bytes, what it is (valid and routed, authorised, within limits...) so the expected
 * status comes from the request's construction, not from the server's code.
 */
import fc from 'fast-check';
import { alert, notificationBody, TEST_ENV, TOKEN } from '../webhook/helpers';
import { type FuzzRequest, sendsUnframedBody } from './fuzzHttp';

/** The failover route's alert name; generated names never take it unless the case says "routed". */
export const ROUTED_ALERT = 'FuzzWestDown';
/** The basic-auth user name the campaign's configuration accepts. */
export const BASIC_USER = 'alertmanager';
/** The body limit of the campaign's configuration (the default). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What the body is. */
export type WebhookBodyKind =
  | 'none'
  | 'empty'
  | 'junk'
  | 'deep'
  | 'wrong-version'
  | 'wrong-field'
  | 'oversized'
  | 'valid-unmatched'
  | 'valid-ignored'
  | 'valid-routed-firing'
  | 'valid-routed-resolved';

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
const printable = (max: number) => fc.string({ unit: 'grapheme-ascii', maxLength: max }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());

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

const labelName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
const unroutedName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,20}$/).filter((n) => n !== ROUTED_ALERT && n !== 'Watchdog');
const fingerprint = fc.stringMatching(/^[0-9a-f]{16}$/);

type Json = Record<string, unknown>;
const text = (doc: unknown) => () => Buffer.from(JSON.stringify(doc));

/** Valid notifications: their labels decide the route. */
function validBody(kind: 'valid-unmatched' | 'valid-ignored' | 'valid-routed-firing' | 'valid-routed-resolved'): fc.Arbitrary<Json> {
  const status = kind === 'valid-routed-resolved' ? 'resolved' : 'firing';
  const labels: fc.Arbitrary<Record<string, string>> =
    kind === 'valid-unmatched'
      ? fc.oneof(
          fc.record({ alertname: unroutedName, severity: fc.constantFrom('critical', 'warning') }),
          // The routed alert name with the wrong severity matches no route either.
          fc.record({ alertname: fc.constant(ROUTED_ALERT), severity: fc.constantFrom('warning', 'info', '') }),
        )
      : kind === 'valid-ignored'
        ? fc.record({ alertname: fc.constant('Watchdog') })
        : fc.record({ alertname: fc.constant(ROUTED_ALERT), severity: fc.constant('critical') });
  return fc
    .tuple(
      labels,
      fc.dictionary(
        labelName.filter((k) => k !== 'alertname' && k !== 'severity'),
        printable(60),
        { maxKeys: 5 },
      ),
      fingerprint,
      fc.integer({ min: 1, max: 3 }),
    )
    .map(([base, extra, fp, count]) => {
      const alerts = Array.from({ length: count }, (_, i) => alert(status, { ...extra, ...base }, `${fp.slice(0, 15)}${i}`));
      return notificationBody(status, alerts) as unknown as Json;
    });
}

/** One field of a valid notification broken (each breaks a documented rule of the body). */
const WRONG_FIELDS: Array<(body: Json) => void> = [
  (b) => (b.status = 'burning'),
  (b) => (b.alerts = []),
  (b) => (b.alerts = { 0: (b.alerts as Json[])[0] }),
  (b) => ((b.alerts as Json[])[0].fingerprint = ''),
  (b) => ((b.alerts as Json[])[0].labels = { alertname: 42 }),
  (b) => (b.groupKey = 42),
  (b) => (b.truncatedAlerts = -1),
  (b) => delete (b.alerts as Json[])[0].startsAt,
  (b) => delete b.receiver,
  (b) => (b.alerts = Array.from({ length: 1001 }, (_, i) => alert('firing', { alertname: 'Storm' }, `f${i}`))),
  (b) => (b.groupKey = 'g'.repeat(10_000)),
  (b) => ((b.alerts as Json[])[0].status = 'FIRING'),
  (b) => (b.status = null),
  (b) => ((b.alerts as Json[])[0].labels = { alertname: 'x'.repeat(5000) }),
  (b) => ((b.alerts as unknown[])[0] = 'alert'),
];

const WRONG_VERSIONS: Array<(body: Json) => void> = [
  (b) => (b.version = '3'),
  (b) => (b.version = 4),
  (b) => (b.version = '4.0'),
  (b) => (b.version = null),
  (b) => delete b.version,
  (b) => (b.version = ''),
  (b) => (b.version = ['4']),
];

interface BodySpec {
  kind: WebhookBodyKind;
  build?: () => Buffer;
  bytes: number;
}

/** A copy of `body` with one rule broken (generated values are never changed in place: fast-check reuses them). */
function broken(body: Json, breakIt: (body: Json) => void): Buffer {
  const copy = structuredClone(body);
  breakIt(copy);
  return Buffer.from(JSON.stringify(copy));
}

const sized = (kind: WebhookBodyKind, build: () => Buffer): BodySpec => ({ kind, build, bytes: build().length });

/** A valid body padded with an unknown top-level field (allowed: newer Alertmanagers add fields). */
function padded(body: Json, padBytes: number): () => Buffer {
  return () => Buffer.from(JSON.stringify({ ...body, annotationsDump: 'p'.repeat(padBytes) }));
}

const validKinds = ['valid-unmatched', 'valid-ignored', 'valid-routed-firing', 'valid-routed-resolved'] as const;

const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<BodySpec>({ kind: 'none', bytes: 0 }) },
  { weight: 1, arbitrary: fc.constant<BodySpec>({ kind: 'empty', build: () => Buffer.alloc(0), bytes: 0 }) },
  {
    weight: 4,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8192 }).map((b) => ({ kind: 'junk' as const, build: () => Buffer.from(b), bytes: b.length })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.integer({ min: 17, max: 100_000 }), fc.boolean()).map(([depth, arrays]) => {
      const [open, close] = arrays ? ['[', ']'] : ['{"a":', '}'];
      const build = () => Buffer.from(`{"version":"4","alerts":${open.repeat(depth)}${arrays ? '' : '1'}${close.repeat(depth)}}`);
      return { kind: 'deep' as const, build, bytes: build().length };
    }),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(validBody('valid-routed-firing'), fc.integer({ min: 0, max: WRONG_VERSIONS.length - 1 }))
      .map(([b, i]) => sized('wrong-version', () => broken(b, WRONG_VERSIONS[i]))),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(validBody('valid-routed-firing'), fc.integer({ min: 0, max: WRONG_FIELDS.length - 1 }))
      .map(([b, i]) => sized('wrong-field', () => broken(b, WRONG_FIELDS[i]))),
  },
  { weight: 6, arbitrary: fc.constantFrom(...validKinds).chain((kind) => validBody(kind).map((b) => sized(kind, text(b)))) },
  {
    // Big but within the limit: what a leak of request bodies would be made of.
    weight: 12,
    arbitrary: fc
      .tuple(fc.constantFrom(...validKinds), fc.integer({ min: 400_000, max: MAX_BODY_BYTES - 20_000 }))
      .chain(([kind, pad]) => validBody(kind).map((b) => sized(kind, padded(b, pad)))),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(validBody('valid-unmatched'), fc.integer({ min: MAX_BODY_BYTES + 1, max: 2.5 * MAX_BODY_BYTES }))
      .map(([b, pad]) => sized('oversized', padded(b, pad))),
  },
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
