/**
 * `npm start | tee log`, then Ctrl-C: the reader of kubeha's output is gone when kubeha says it is
 * stopping. The command must still stop what it started (here the Temporal dev server of `kubeha dev`)
 * and exit cleanly, instead of dying of EPIPE halfway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../lib/freePort';
import { isAlive, OutputWatch, spawnCli } from './cliProcess';

test('Ctrl-C with a closed output pipe still stops the dev server and exits 0', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeha-broken-pipe-'));
  const child = spawnCli(['dev', '--no-worker', '--no-codec', '--data-dir', dir, '--port', String(await freePort()), '--ui-port', String(await freePort())]);
  try {
    const watch = new OutputWatch(child);
    const serverPid = Number((await watch.waitFor(/Temporal dev server \(pid (\d+)\)/, 120_000))[1]);
    assert.ok(serverPid > 0 && isAlive(serverPid), 'the dev server runs');
    await watch.waitFor(/Temporal Web UI/, 30_000);
    // The reader goes away first (tee dies of the same Ctrl-C), then the interrupt arrives.
    child.stdout?.destroy();
    child.stderr?.destroy();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0, 'exits cleanly');
    const deadline = Date.now() + 10_000;
    while (isAlive(serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(isAlive(serverPid), false, `the dev server (pid ${serverPid}) was stopped`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
