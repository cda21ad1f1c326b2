/**
 * The codec server over real HTTP: the protocol the Web UI speaks (/encode, /decode, Payloads JSON),
 * CORS preflight for the UI's origin, and who may decode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { type CodecServer, startCodecServer } from '../../client/codecServer';
import { AccessCheck, SESSION_COOKIE } from '../../client/codec/access';
import { payloadsFromJson, payloadsToJson } from '../../client/codec/payloadJson';
import { EncryptionCodec } from '../../lib/codec/encryptionCodec';
import { generateKey, keyringOf } from '../../lib/codec/keyring';

const TOKEN = 'codec-test-token-0123456789abcdef';
const UI = 'http://127.0.0.1:8233';
const SECRET = 'kubeconfig-client-key-data-LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVkt';
const key = generateKey();
let server: CodecServer;

before(async () => {
  server = await startCodecServer({ codec: new EncryptionCodec(keyringOf([key])), token: TOKEN, port: 0 });
});
after(async () => {
  await server?.close();
});

const AUTH = { Authorization: `Bearer ${TOKEN}` };
const body = (values: unknown[]): string => payloadsToJson(values.map((v) => defaultPayloadConverter.toPayload(v) as Payload));

async function post(path: string, payload: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    body: payload,
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
  });
}

describe('codec server', () => {
  test('round trip: /encode hides the value, /decode with the token gives it back', async () => {
    const encoded = await post('/encode', body([{ key: SECRET }, 'second']), AUTH);
    assert.equal(encoded.status, 200);
    const encodedText = await encoded.text();
    assert.equal(encodedText.includes(SECRET), false);
    assert.equal(encodedText.includes(Buffer.from(SECRET).toString('base64').slice(0, 20)), false);
    const sealed = payloadsFromJson(encodedText);
    assert.equal(sealed.length, 2);
    assert.equal(Buffer.from(sealed[0].metadata?.['encryption-key-id'] as Uint8Array).toString(), key.id);

    const decoded = await post('/decode', encodedText, { Authorization: `Bearer ${TOKEN}` });
    assert.equal(decoded.status, 200);
    const values = payloadsFromJson(await decoded.text()).map((p) => defaultPayloadConverter.fromPayload(p));
    assert.deepEqual(values, [{ key: SECRET }, 'second']);
  });

  test('decode without a token, or with a wrong one, is refused with 401 and reveals nothing', async () => {
    const sealed = await (await post('/encode', body([SECRET]), AUTH)).text();
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong-token-0123456789' },
      { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
    ];
    for (const headers of attempts) {
      const response = await post('/decode', sealed, headers);
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/);
      assert.equal((await response.text()).includes(SECRET), false);
    }
  });

  test('a payload sealed under a key the server does not hold is refused (400, key id named)', async () => {
    const stranger = generateKey();
    const [foreign] = await new EncryptionCodec(keyringOf([stranger])).encode([defaultPayloadConverter.toPayload(SECRET) as Payload]);
    const response = await post('/decode', payloadsToJson([foreign]), { Authorization: `Bearer ${TOKEN}` });
    assert.equal(response.status, 400);
    assert.match(await response.text(), new RegExp(`unknown-key: .*${stranger.id}`));
  });

  test('tampered ciphertext is refused (400)', async () => {
    const sealed = payloadsFromJson(await (await post('/encode', body([SECRET]), AUTH)).text());
    const data = Buffer.from(sealed[0].data as Uint8Array);
    data[data.length - 20] ^= 0x40;
    const response = await post('/decode', payloadsToJson([{ metadata: sealed[0].metadata, data }]), { Authorization: `Bearer ${TOKEN}` });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /tampered/);
  });

  test('CORS: the UI origin gets its preflight answered and may send its headers with credentials; others do not', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace,authorization' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    for (const h of ['Content-Type', 'X-Namespace', 'Authorization']) assert.match(preflight.headers.get('access-control-allow-headers') ?? '', new RegExp(h));

    const actual = await post('/encode', body(['x']), { Origin: UI, ...AUTH });
    assert.equal(actual.headers.get('access-control-allow-origin'), UI);

    const stranger = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);
  });

  test('encode without the token or a session is refused (401): nothing is sealed for a stranger', async () => {
    const response = await post('/encode', body([SECRET]));
    assert.equal(response.status, 401);
    assert.doesNotMatch(await response.text(), /payloads/);
  });

  test('a browser logged in at /login decodes with its session cookie; a wrong token gets no cookie', async () => {
    const wrong = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope-nope-nope-nope' }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const login = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }) });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^${SESSION_COOKIE}=[^;]+; HttpOnly; SameSite=Strict`));
    assert.equal(cookie.includes(TOKEN), false, 'the cookie is not the token');
    const sealed = await (await post('/encode', body([SECRET]), { Cookie: cookie.split(';')[0], Origin: UI })).text();
    const decoded = await post('/decode', sealed, { Cookie: cookie.split(';')[0], Origin: UI });
    assert.equal(decoded.status, 200);
    assert.equal(defaultPayloadConverter.fromPayload(payloadsFromJson(await decoded.text())[0]), SECRET);
  });

  test('bad requests: not JSON, wrong shape, wrong method, unknown path', async () => {
    assert.equal((await post('/encode', 'not json', AUTH)).status, 400);
    assert.equal((await post('/encode', '{"payloads": {}}', AUTH)).status, 400);
    assert.equal((await post('/encode', '{"payloads": [{"data": "***"}]}', AUTH)).status, 400);
    assert.equal((await fetch(`${server.url}/encode`)).status, 405);
    assert.equal((await post('/elsewhere', '{}')).status, 404);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });
});

describe('codec server sessions', () => {
  test('the server ends a session itself when its time is up, whatever the browser keeps; a forged expiry is refused', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const access = new AccessCheck(TOKEN, 60, () => now);
    const session = access.sessionValue();
    assert.equal(access.sessionValid(session), true);
    now += 59_000;
    assert.equal(access.sessionValid(session), true);
    now += 2_000;
    assert.equal(access.sessionValid(session), false, 'expired server-side');
    const [expiresAt, mac] = session.split('.');
    assert.equal(access.sessionValid(`${Number(expiresAt) + 3600}.${mac}`), false, 'a longer expiry with the old MAC');
    assert.equal(new AccessCheck('another-token-0123456789abcdef', 60, () => now - 2_000).sessionValid(session), false, 'another token');
  });

  test('over HTTP: a session of 1 s decodes at once and is refused after it ended', async () => {
    const short = await startCodecServer({ codec: new EncryptionCodec(keyringOf([key])), token: TOKEN, port: 0, sessionSeconds: 1 });
    try {
      const login = await fetch(`${short.url}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }) });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
      assert.match(login.headers.get('set-cookie') ?? '', /Max-Age=1\b/);
      const call = () => fetch(`${short.url}/encode`, { method: 'POST', body: body(['x']), headers: { 'X-Namespace': 'default', Cookie: cookie } });
      assert.equal((await call()).status, 200);
      await new Promise((r) => setTimeout(r, 2_100));
      assert.equal((await call()).status, 401);
    } finally {
      await short.close();
    }
  });
});

describe('codec server options', () => {
  test('encode needs the token as decode does (a forged payload is a forged command), and namespaces can be restricted', async () => {
    const strict = await startCodecServer({ codec: new EncryptionCodec(keyringOf([key])), token: TOKEN, port: 0, namespaces: ['prod'] });
    try {
      const call = (ns: string, auth: boolean) =>
        fetch(`${strict.url}/encode`, {
          method: 'POST',
          body: body(['x']),
          headers: { 'X-Namespace': ns, ...(auth ? { Authorization: `Bearer ${TOKEN}` } : {}) },
        });
      assert.equal((await call('prod', false)).status, 401);
      assert.equal((await call('prod', true)).status, 200);
      assert.equal((await call('default', true)).status, 403);
    } finally {
      await strict.close();
    }
  });
});
