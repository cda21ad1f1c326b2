/**
 * Outside `kubeha dev` and `start`, the processes that must read each other's payloads refuse to start
 * without shared keys, instead of each making its own: `kubeha worker`, `webhook` and `codec-server`.
 * Configured keys, or the key `kubeha dev` made in the same data directory, let them start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatKeyList, generateKey } from '../../lib/codec/keyring';
import { freePort } from '../../lib/freePort';
import { collect, OutputWatch, runCli, spawnCli } from './cliProcess';

test('worker, webhook and codec-server refuse to start without shared keys, naming the settings', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeha-keys-'));
  try {
    const token = path.join(dir, 'token');
    writeFileSync(token, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    const routes = path.join(dir, 'routes.json');
    writeFileSync(
      routes,
      JSON.stringify({
        listen: { port: await freePort() },
        auth: { bearerToken: { file: token } },
        routes: [{ name: 'watchdog', matchers: ['alertname="Watchdog"'], action: 'ignore' }],
      }),
    );
    const bare = {
      KUBEHA_DATA_DIR: path.join(dir, 'empty'),
      KUBEHA_CODEC_TOKEN: randomBytes(24).toString('base64url'),
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    };
    for (const args of [['worker'], ['webhook', '--config', routes], ['codec-server', '--port', String(await freePort())]]) {
      const run = await runCli(args, bare);
      assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
      assert.match(
        run.stderr,
        new RegExp(
          `^kubeha ${args[0]} needs the payload keys that every kubeha process shares, and none are configured: set KUBEHA_CODEC_KEYS=.*KUBEHA_CODEC_KEY_FILE`,
        ),
      );
    }

    // With configured keys the worker gets past the check (and stops at the missing Temporal instead).
    const keyed = await runCli(['worker'], { ...bare, KUBEHA_CODEC_KEYS: formatKeyList([generateKey()]) });
    assert.equal(keyed.code, 1);
    assert.match(keyed.stderr, /^cannot reach Temporal at /);

    // The key kubeha dev made in this data directory counts as shared: the codec server starts.
    const devDir = path.join(dir, 'dev');
    mkdirSync(path.join(devDir, 'codec'), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(devDir, 'codec', 'keys'), formatKeyList([generateKey()]), { mode: 0o600 });
    const server = spawnCli(['codec-server', '--port', String(await freePort())], { ...bare, KUBEHA_DATA_DIR: devDir });
    const ended = collect(server, 60_000);
    try {
      await new OutputWatch(server).waitFor(/codec server at http:\/\/127\.0\.0\.1:\d+/, 30_000);
    } finally {
      server.kill('SIGTERM');
    }
    assert.equal((await ended).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
