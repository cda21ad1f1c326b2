/**
 * kubeha's payload codec and its key configuration: what it stores is unreadable, carries its key id,
 * opens with any key of the keyring, and refuses unknown keys and altered ciphertext.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { CodecError, EncryptionCodec, ENCRYPTED, isEncrypted } from '../../lib/codec/encryptionCodec';
import { CodecKeyError, formatKeyList, generateKey, keyringOf, loadKeyring, parseKeyList } from '../../lib/codec/keyring';

const SECRET = 'certificate-key-5f2b9c0d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c';
const text = (b?: Uint8Array | null) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const payload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value) as Payload;

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'kubeha-codec-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('EncryptionCodec', () => {
  const current = generateKey();
  const old = generateKey();
  const codec = new EncryptionCodec(keyringOf([current, old]));

  test('round trip: the stored payload holds no plaintext, names its key, and decodes to the original', async () => {
    const original = payload({ key: SECRET, n: 42 });
    const [sealed] = await codec.encode([original]);
    assert.equal(text(sealed.metadata?.[ENCRYPTED.encodingKey]), 'binary/encrypted');
    assert.equal(text(sealed.metadata?.[ENCRYPTED.keyIdKey]), current.id);
    assert.equal(Buffer.from(sealed.data as Uint8Array).includes(SECRET), false);
    assert.equal(text(sealed.data).includes('json/plain'), false, 'the inner encoding is sealed too');
    const [opened] = await codec.decode([sealed]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened), { key: SECRET, n: 42 });
    assert.equal(text(opened.metadata?.encoding), 'json/plain');
  });

  test('two encodings of the same value differ (random nonce)', async () => {
    const [a, b] = await codec.encode([payload(SECRET), payload(SECRET)]);
    assert.notDeepEqual(Buffer.from(a.data as Uint8Array), Buffer.from(b.data as Uint8Array));
  });

  test('payloads sealed under an older key still open (key rotation)', async () => {
    const [sealed] = await new EncryptionCodec(keyringOf([old])).encode([payload('written before rotation')]);
    const [opened] = await codec.decode([sealed]);
    assert.equal(defaultPayloadConverter.fromPayload(opened), 'written before rotation');
  });

  test('an unknown key id is refused, naming the id', async () => {
    const stranger = generateKey();
    const [sealed] = await new EncryptionCodec(keyringOf([stranger])).encode([payload(SECRET)]);
    await assert.rejects(codec.decode([sealed]), (err: unknown) => {
      assert.ok(err instanceof CodecError);
      assert.equal(err.reason, 'unknown-key');
      assert.match(err.message, new RegExp(stranger.id));
      return true;
    });
  });

  test('tampered ciphertext, tag, or a relabelled key id fail authentication', async () => {
    const [sealed] = await codec.encode([payload(SECRET)]);
    const flip = (at: number): Payload => {
      const data = Buffer.from(sealed.data as Uint8Array);
      data[at] ^= 0x01;
      return { metadata: sealed.metadata, data };
    };
    const length = (sealed.data as Uint8Array).length;
    for (const bad of [flip(20), flip(length - 1), flip(0)]) {
      await assert.rejects(codec.decode([bad]), (err: unknown) => err instanceof CodecError && err.reason === 'tampered');
    }
    // Same bytes presented as sealed by the other key of the keyring: the bound key id no longer matches.
    const relabelled = { metadata: { ...sealed.metadata, [ENCRYPTED.keyIdKey]: new TextEncoder().encode(old.id) }, data: sealed.data };
    await assert.rejects(codec.decode([relabelled]), (err: unknown) => err instanceof CodecError && err.reason === 'tampered');
    await assert.rejects(
      codec.decode([{ metadata: sealed.metadata, data: new Uint8Array(5) }]),
      (err: unknown) => err instanceof CodecError && err.reason === 'malformed',
    );
  });

  test('payloads that were never encrypted pass through decode unchanged', async () => {
    const plain = payload({ written: 'before encryption was on' });
    const [out] = await codec.decode([plain]);
    assert.equal(out, plain);
    assert.equal(isEncrypted(plain), false);
  });
});

describe('codec keys', () => {
  test('KUBEHA_CODEC_KEYS: the first key encrypts, all decrypt', () => {
    const [a, b] = [generateKey(), generateKey()];
    const { keyring, source } = loadKeyring({ KUBEHA_CODEC_KEYS: `${a.id}:${a.key.toString('base64')},${b.id}:${b.key.toString('base64')}` });
    assert.equal(source.kind, 'env');
    assert.equal(keyring.encryptKey.id, a.id);
    assert.deepEqual(keyring.keyFor(b.id), b.key);
    assert.deepEqual(keyring.ids, [a.id, b.id]);
  });

  test('KUBEHA_CODEC_KEY_FILE is read, and refused when group or others may read it', () => {
    const file = path.join(tempDir(), 'keys');
    const key = generateKey();
    writeFileSync(file, `# kubeha codec keys\n${formatKeyList([key])}`, { mode: 0o600 });
    assert.equal(loadKeyring({ KUBEHA_CODEC_KEY_FILE: file }).keyring.encryptKey.id, key.id);
    rmSync(file);
    writeFileSync(file, formatKeyList([key]), { mode: 0o644 });
    assert.throws(() => loadKeyring({ KUBEHA_CODEC_KEY_FILE: file }), /readable by group or others/);
  });

  test('without configuration a dev key file is generated once (0600) and reused', () => {
    const dataDir = tempDir();
    const first = loadKeyring({ KUBEHA_DATA_DIR: dataDir });
    assert.equal(first.source.kind, 'generated');
    assert.equal(first.source.kind === 'generated' && first.source.created, true);
    const file = path.join(dataDir, 'codec', 'keys');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const second = loadKeyring({ KUBEHA_DATA_DIR: dataDir });
    assert.equal(second.source.kind === 'generated' && second.source.created, false);
    assert.equal(second.keyring.encryptKey.id, first.keyring.encryptKey.id);
    assert.deepEqual(second.keyring.encryptKey.key, first.keyring.encryptKey.key);
    assert.match(readFileSync(file, 'utf8'), new RegExp(`^${first.keyring.encryptKey.id}:`));
  });

  test('bad key lists are refused with the source named and no key material quoted', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    assert.throws(
      () => keyringOf(parseKeyList(`a:${short}`, 'KUBEHA_CODEC_KEYS')),
      (err: unknown) => err instanceof CodecKeyError && /must be 32 bytes/.test(err.message) && !err.message.includes(short),
    );
    assert.throws(() => parseKeyList('no-colon-here', 'KUBEHA_CODEC_KEYS'), /KUBEHA_CODEC_KEYS: entry 1 is not "id:base64key"/);
    assert.throws(() => parseKeyList('a:not base64!', 'KUBEHA_CODEC_KEYS'), /the key of "a" is not base64/);
    const k = generateKey().key.toString('base64');
    assert.throws(() => keyringOf(parseKeyList(`a:${k},a:${k}`, 'x')), /listed twice/);
    assert.throws(() => parseKeyList(' , ', 'x'), /holds no key/);
  });
});
