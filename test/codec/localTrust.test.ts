/**
 * The codec server's local mode (the `kubeha dev` default): decoding without the token for this machine's
 * callers only, from an allowed origin or none; refused on a non-loopback address; off by default.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { isLoopbackAddress, startCodecServer } from '../../client/codecServer';
import { payloadsToJson } from '../../client/codec/payloadJson';
import { EncryptionCodec } from '../../lib/codec/encryptionCodec';
import { generateKey, keyringOf } from '../../lib/codec/keyring';

const TOKEN = 'local-trust-test-token-0123456789';
const codec = new EncryptionCodec(keyringOf([generateKey()]));

async function decodeStatus(url: string, origin?: string): Promise<{ status: number; body: string }> {
  const encoded = await codec.encode([defaultPayloadConverter.toPayload({ clusterName: 'west' })]);
  const response = await fetch(`${url}/decode`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...(origin ? { Origin: origin } : {}) },
    body: payloadsToJson(encoded),
  });
  return { status: response.status, body: await response.text() };
}

test('loopback addresses are recognised, others are not', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of ['0.0.0.0', '10.0.0.1', '::', '::ffff:10.0.0.1', '128.0.0.1', '127.0.0.1.example.com']) assert.equal(isLoopbackAddress(a), false, a);
});

test('local mode decodes for this machine without the token, from the UI origin or none, never from another site', async () => {
  const server = await startCodecServer({ codec, token: TOKEN, port: 0, host: '127.0.0.1', trustLoopback: true, allowedOrigins: ['http://127.0.0.1:8233'] });
  try {
    const plain = await decodeStatus(server.url);
    assert.equal(plain.status, 200);
    assert.match(plain.body, /"payloads"/);
    assert.equal((await decodeStatus(server.url, 'http://127.0.0.1:8233')).status, 200);
    assert.equal((await decodeStatus(server.url, 'http://evil.example')).status, 401);
  } finally {
    await server.close();
  }
});

test('without local mode the token is needed, as before', async () => {
  const server = await startCodecServer({ codec, token: TOKEN, port: 0, host: '127.0.0.1' });
  try {
    assert.equal((await decodeStatus(server.url)).status, 401);
  } finally {
    await server.close();
  }
});

test('local mode refuses to listen on a non-loopback address', async () => {
  await assert.rejects(
    startCodecServer({ codec, token: TOKEN, port: 0, host: '0.0.0.0', trustLoopback: true }),
    /trusts local callers only on a loopback address, not on 0\.0\.0\.0/,
  );
});
