/**
 * Codec keys outside `kubeha dev`/`start`: `kubeha worker` without configured keys refuses to start,
 * saying how to set them, before it connects anywhere; with a key file it goes on (to the Temporal
 * check); and a process with another data directory but the same configured keys reads what a
 * worker's converter wrote. Real CLI child processes; real codec.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { runCli } from './cliProcess';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeha-keys-'));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function keyFile(): string {
  const file = path.join(tempDir(), 'keys');
  writeFileSync(file, `k1:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return file;
}

describe('codec keys outside kubeha dev', { timeout: 120_000 }, () => {
  test('kubeha worker without keys refuses to start, says how to set them, and generates none', async () => {
    const data = tempDir();
    const run = await runCli(['worker'], { KUBEHA_DATA_DIR: data, KUBEHA_CODEC_KEYS: '', KUBEHA_CODEC_KEY_FILE: '', TEMPORAL_ADDRESS: '127.0.0.1:9' });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /kubeha worker needs the payload keys that every kubeha process shares/);
    assert.match(run.stderr, /KUBEHA_CODEC_KEY_FILE/);
    assert.match(run.stderr, /`kubeha dev` and `kubeha start` make a key for one machine by themselves/);
    assert.equal(existsSync(path.join(data, 'codec', 'keys')), false, 'no key was generated');
  });

  test('kubeha worker with a key file gets past the key check (to the Temporal connection)', async () => {
    const run = await runCli(['worker'], {
      KUBEHA_DATA_DIR: tempDir(),
      KUBEHA_CODEC_KEY_FILE: keyFile(),
      KUBEHA_CODEC_KEYS: '',
      TEMPORAL_ADDRESS: '127.0.0.1:9',
    });
    assert.notEqual(run.code, 0);
    assert.doesNotMatch(run.stderr, /needs the payload keys/);
    assert.match(run.stderr, /^cannot reach Temporal at 127\.0\.0\.1:9/);
  });

  test('another data directory with the configured keys reads what the worker wrote; its own dev key does not', async () => {
    const file = keyFile();
    const worker = kubehaDataConverter({ KUBEHA_DATA_DIR: tempDir(), KUBEHA_CODEC_KEY_FILE: file });
    const cli = kubehaDataConverter({ KUBEHA_DATA_DIR: tempDir(), KUBEHA_CODEC_KEY_FILE: file });
    const stranger = kubehaDataConverter({ KUBEHA_DATA_DIR: tempDir() });
    const codec = (c: typeof worker) => (c.dataConverter.payloadCodecs ?? [])[0];
    const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"result":"west bootstrapped"}') };
    const [sealed] = await codec(worker).encode([payload]);
    assert.ok(
      !Buffer.from(sealed.data ?? [])
        .toString()
        .includes('west bootstrapped'),
      'the payload is encrypted',
    );
    const [opened] = await codec(cli).decode([sealed]);
    assert.equal(Buffer.from(opened.data ?? []).toString(), '{"result":"west bootstrapped"}');
    await assert.rejects(codec(stranger).decode([sealed]));
  });
});
