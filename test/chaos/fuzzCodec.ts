/**
 * Generated requests for `kubeha codec-server` and the answers its documentation allows for each
 * (codecServer.ts: 200 encoded/decoded, 204 CORS preflight, 400 not Payloads JSON or not decryptable,
 * 401 decode without the token, 403 origin or namespace not served, 404 unknown path, 405 not POST).
 * As for the webhook, the expected status follows from how the request was built.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import fc from 'fast-check';
import { payloadsToJson } from '../../client/codec/payloadJson';
import type { EncryptionCodec } from '../../lib/codec/encryptionCodec';
import { type FuzzRequest, sendsUnframedBody } from './fuzzHttp';

/** The Web UI origin the campaign's server allows. */
export const UI_ORIGIN = 'http://127.0.0.1:8233';
/** The one namespace the campaign's server serves. */
export const NAMESPACE = 'default';
/** The codec server's body limit. */
export const CODEC_MAX_BODY = 16 * 1024 * 1024;

type Route = 'encode' | 'decode' | 'health' | 'login' | 'other' | 'unparsable';

/** What the body is. */
export type CodecBodyKind =
  | 'none'
  | 'junk'
  | 'deep'
  | 'not-payloads'
  | 'bad-base64'
  | 'plain'
  | 'sealed'
  | 'foreign'
  | 'tampered'
  | 'proto-key'
  | 'huge-plain'
  | 'oversized'
  | 'login-right'
  | 'login-wrong';

/** A generated codec-server request and the facts the oracle needs. */
export interface CodecCase extends FuzzRequest {
  route: Route;
  authorised: boolean;
  originAllowed: boolean;
  namespaceServed: boolean;
  bodyKind: CodecBodyKind;
  hugeHeaders: boolean;
  unknownMethod: boolean;
  bodyBytes: number;
}

/** What the generators need from the server under test: its codec, a stranger's, the token and session. */
export interface CodecFuzzKeys {
  codec: EncryptionCodec;
  foreign: EncryptionCodec;
  token: string;
  session: string;
}

const PATHS: Array<[string, Route]> = [
  ['/encode', 'encode'],
  ['/decode', 'decode'],
  ['/encode/', 'encode'],
  ['/decode//', 'decode'],
  ['/decode?namespace=default', 'decode'],
  ['/a/../decode', 'decode'],
  ['/%2e%2e/encode', 'encode'],
  ['http://evil.example/decode', 'decode'],
  ['/health', 'health'],
  ['/health?probe=1', 'health'],
  ['/login', 'login'],
  ['/login?next=/', 'login'],
  ['/', 'other'],
  ['//health', 'other'],
  ['/ENCODE', 'other'],
  ['/login/', 'other'],
  ['*', 'other'],
  ['/%', 'other'],
  ['/../../etc/passwd', 'other'],
  ['//[', 'unparsable'],
  ['//[::1', 'unparsable'],
  ['http://[oops/', 'unparsable'],
];

const pathArb: fc.Arbitrary<[string, Route]> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(PATHS[0], PATHS[1]) },
  { weight: 5, arbitrary: fc.constantFrom(...PATHS.slice(2)) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9%._~-]{0,40}$/).map((s): [string, Route] => [`/fz${s}`, 'other']) },
);

const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'];
const methodArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant('POST') },
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_METHODS) },
  { weight: 1, arbitrary: fc.constantFrom('FUZZ', 'BREW') },
);
const printable = (max: number) => fc.string({ unit: 'grapheme-ascii', maxLength: max }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());

const valueArb = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ maxLength: 200 }), fc.constant(null));
const toPayload = (v: unknown): Payload => defaultPayloadConverter.toPayload(v) as Payload;

/** The campaign's request generator for a server with these keys: half aimed at the codec, half anything. */
export function codecCaseArb(keys: CodecFuzzKeys): fc.Arbitrary<CodecCase> {
  type Auth = { headers: Record<string, string>; ok: boolean };
  const auth: fc.Arbitrary<Auth> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom<Auth>(
        { headers: { Authorization: `Bearer ${keys.token}` }, ok: true },
        { headers: { Cookie: `theme=dark; kubeha_codec_session=${keys.session}` }, ok: true },
      ),
    },
    { weight: 2, arbitrary: fc.constant<Auth>({ headers: {}, ok: false }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<Auth>(
        { headers: { Authorization: 'Bearer wrong-token-0123456789' }, ok: false },
        { headers: { Authorization: `Basic ${Buffer.from(`x:${keys.token}`).toString('base64')}` }, ok: false },
        { headers: { Authorization: `Bearer ${keys.token} extra` }, ok: false },
        { headers: { Cookie: `kubeha_codec_session=${keys.session.slice(1)}` }, ok: false },
        { headers: { Cookie: `kubeha_codec_session=${keys.token}` }, ok: false },
        { headers: { Authorization: `Bearer ${'A'.repeat(8000)}` }, ok: false },
      ),
    },
    {
      weight: 1,
      arbitrary: printable(200)
        .filter((s) => s.length > 0)
        .map((s) => ({ headers: { Authorization: s }, ok: false })),
    },
  );
  const origin = fc.constantFrom<[string | undefined, boolean]>(
    [undefined, false],
    [UI_ORIGIN, true],
    [UI_ORIGIN, true],
    ['http://evil.example', false],
    ['null', false],
  );
  const namespace = fc.constantFrom<[string | undefined, boolean]>(
    [NAMESPACE, true],
    [NAMESPACE, true],
    [NAMESPACE, true],
    [undefined, false],
    ['kube-system', false],
  );
  const extra: fc.Arbitrary<{ headers: Record<string, string>; huge: boolean }> = fc.oneof(
    {
      weight: 12,
      arbitrary: fc.dictionary(fc.stringMatching(/^x-fz-[a-z0-9-]{1,20}$/), printable(100), { maxKeys: 8 }).map((headers) => ({ headers, huge: false })),
    },
    { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }).map((n) => ({ headers: { 'x-fz-big': 'h'.repeat(n) }, huge: true })) },
  );

  const json = (doc: unknown) => () => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
  const lazy = (kind: CodecBodyKind, build: () => Buffer, bytes?: number) => ({ kind, build, bytes: bytes ?? build().length });
  const body: fc.Arbitrary<{ kind: CodecBodyKind; build?: () => Buffer; bytes: number }> = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'none' as const, bytes: 0 }) },
    { weight: 9, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8192 }).map((b) => lazy('junk', () => Buffer.from(b))) },
    {
      weight: 3,
      arbitrary: fc
        .integer({ min: 1000, max: 200_000 })
        .map((d) => lazy('deep', () => Buffer.from(`{"payloads":[{"metadata":{"encoding":${'['.repeat(d)}${']'.repeat(d)}}}]}`))),
    },
    {
      weight: 6,
      arbitrary: fc
        .constantFrom<unknown>({}, [], 42, 'payloads', { payloads: {} }, { payloads: [1] }, { payloads: [null] }, { payloads: [{ metadata: [] }] })
        .map((d) => lazy('not-payloads', json(d))),
    },
    {
      weight: 6,
      arbitrary: fc
        .constantFrom('!!!', 'a b', 'é', '=abc')
        .map((bad) => lazy('bad-base64', json({ payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: bad }] }))),
    },
    {
      weight: 18,
      arbitrary: fc.array(valueArb, { minLength: 1, maxLength: 5 }).map((vs) => lazy('plain', () => Buffer.from(payloadsToJson(vs.map(toPayload))))),
    },
    {
      weight: 18,
      arbitrary: fc
        .array(valueArb, { minLength: 1, maxLength: 5 })
        .map((vs) => lazy('sealed', () => Buffer.from(payloadsToJson(vs.map((v) => keys.codec.seal(toPayload(v))))))),
    },
    { weight: 6, arbitrary: valueArb.map((v) => lazy('foreign', () => Buffer.from(payloadsToJson([keys.foreign.seal(toPayload(v))])))) },
    {
      weight: 6,
      arbitrary: fc.tuple(valueArb, fc.nat()).map(([v, at]) =>
        lazy('tampered', () => {
          const sealed = keys.codec.seal(toPayload(v));
          const data = Buffer.from(sealed.data as Uint8Array);
          data[at % data.length] ^= 0x01;
          return Buffer.from(payloadsToJson([{ metadata: sealed.metadata, data }]));
        }),
      ),
    },
    {
      weight: 3,
      arbitrary: fc.constant(lazy('proto-key', json({ payloads: [{ metadata: { ['__proto__']: 'AAAA', encoding: 'anNvbi9wbGFpbg==' }, data: 'bnVsbA==' }] }))),
    },
    {
      // Big but within the limit: what a leak of request bodies would be made of.
      weight: 18,
      arbitrary: fc
        .integer({ min: 300_000, max: 2_000_000 })
        .map((n) => lazy('huge-plain', () => Buffer.from(payloadsToJson([toPayload('x'.repeat(n))])), Math.ceil((n + 2) / 3) * 4 + 60)),
    },
    { weight: 1, arbitrary: fc.constant(lazy('oversized', () => Buffer.alloc(CODEC_MAX_BODY + 1024, 0x20), CODEC_MAX_BODY + 1024)) },
    {
      weight: 6,
      arbitrary: fc.constantFrom(
        lazy('login-right', () => Buffer.from(`token=${encodeURIComponent(keys.token)}`)),
        lazy('login-wrong', () => Buffer.from('token=guess')),
      ),
    },
  );

  const framing = fc.constantFrom<'length' | 'chunked' | 'none'>('length', 'length', 'chunked', 'none');
  const anyRequest = fc.record({ method: methodArb, path: pathArb, auth, origin, namespace, extra, body, framing });
  // What the Web UI itself sends (POST to the codec paths, the namespace, the token), so that every body reaches the codec.
  const aimedRequest = fc.record({
    method: fc.constant('POST'),
    path: fc.constantFrom(PATHS[0], PATHS[1]),
    auth: auth.filter((a) => a.ok),
    origin,
    namespace: fc.constant<[string | undefined, boolean]>([NAMESPACE, true]),
    extra: extra.filter((x) => !x.huge),
    body,
    framing,
  });
  return fc
    .oneof(anyRequest, aimedRequest)
    .map(({ method, path, auth: a, origin: [o, originAllowed], namespace: [ns, namespaceServed], extra: x, body: b, framing }) => {
      const headers: Record<string, string> = { ...x.headers, ...a.headers };
      if (o !== undefined) headers.Origin = o;
      if (ns !== undefined) headers['X-Namespace'] = ns;
      if (b.build) headers['Content-Type'] = b.kind.startsWith('login') ? 'application/x-www-form-urlencoded' : 'application/json';
      return {
        method,
        path: path[0],
        route: path[1],
        headers,
        body: b.build,
        framing,
        authorised: a.ok,
        originAllowed,
        namespaceServed,
        bodyKind: b.kind,
        hugeHeaders: x.huge,
        unknownMethod: !KNOWN_METHODS.includes(method),
        bodyBytes: b.bytes,
      };
    });
}

const DECODABLE: CodecBodyKind[] = ['plain', 'sealed', 'proto-key', 'huge-plain'];
const ENCODABLE: CodecBodyKind[] = [...DECODABLE, 'foreign', 'tampered'];

/** The statuses the codec server may answer to this request. */
export function expectedCodecStatuses(c: CodecCase): number[] {
  const statuses = routeStatuses(c);
  // Bytes after the request are a malformed next request: refused with 400, unless the answer to this one went out first.
  return sendsUnframedBody(c, c.bodyBytes) && !statuses.includes(400) ? [...statuses, 400] : statuses;
}

function routeStatuses(c: CodecCase): number[] {
  if (c.unknownMethod) return [400];
  if (c.hugeHeaders) return [400, 431];
  if (c.route === 'unparsable') return [400];
  if (c.method === 'OPTIONS') return c.originAllowed ? [204] : [403];
  if (c.route === 'health' && c.method === 'GET') return [200];
  if (c.route === 'login' && c.method === 'GET') return [200];
  if (c.route === 'login' && c.method === 'POST') return c.bodyKind === 'login-right' ? [200] : c.bodyKind === 'oversized' ? [400] : [401];
  if (c.route !== 'encode' && c.route !== 'decode') return [404];
  if (c.method !== 'POST') return [405];
  if (!c.namespaceServed) return [403];
  if (!c.authorised) return [401];
  const ok = c.route === 'encode' ? ENCODABLE : DECODABLE;
  return ok.includes(c.bodyKind) ? [200] : [400];
}

/** Whether the server may close the connection before the client finished sending (an early refusal). */
export function codecMayCloseEarly(c: CodecCase, statuses: number[]): boolean {
  return c.hugeHeaders || c.unknownMethod || sendsUnframedBody(c, c.bodyBytes) || (c.bodyBytes > 0 && statuses.some((s) => s !== 200));
}

/** Whether the server reads this request's body in full. */
export function codecBodyIsRead(c: CodecCase, statuses: number[]): boolean {
  if (c.unknownMethod || c.hugeHeaders || c.bodyKind === 'oversized' || !c.body) return false;
  if (c.route === 'login') return c.method === 'POST';
  return (
    (c.route === 'encode' || c.route === 'decode') &&
    c.method === 'POST' &&
    statuses.some((s) => s === 200 || s === 400) &&
    !statuses.includes(401) &&
    !statuses.includes(403)
  );
}
