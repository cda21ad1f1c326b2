/**
 * Generated bodies for the webhook fuzz campaign (./fuzzWebhook.ts): Alertmanager notifications,
 * valid or with one documented rule broken, and the bodies no parser should accept (junk, too deep,
 * over the limit), each with the kind the oracle reads.
 */
import fc from 'fast-check';
import { alert, notificationBody } from '../webhook/helpers';

/** The failover route's alert name; generated names never take it unless the case says "routed". */
export const ROUTED_ALERT = 'FuzzWestDown';
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

/** Printable ASCII of at most `max` characters, trimmed. */
export const printable = (max: number) => fc.string({ unit: 'grapheme-ascii', maxLength: max }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());

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

/** A generated body: its kind, how to build its bytes (none for no body), and its length. */
export interface BodySpec {
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

/** Generated bodies: none, empty, junk, too deep, one rule broken, valid (some large), oversized. */
export const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
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
