/**
 * writeFile and readFile over a real sshd whose authorized key forces every command through a
 * logger, so the tests see exactly what command lines reach the host.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { createSshShell } from '../../activities/ssh/shell';
import type { RemoteShell } from '../../activities/ssh/types';
import { hostFor, startSshd, type TestSshd } from '../support/sshd';
import { expectFailure, knownHostsIn, rejection, scratchDir } from './helpers';

const run = promisify(execFile);

/** A forced command that appends the requested command line to a log, then runs it. */
async function commandLogger(dir: string): Promise<{ script: string; log: string }> {
  const script = path.join(dir, 'log-command');
  const log = path.join(dir, 'commands.log');
  await writeFile(script, `#!/bin/sh\nprintf '%s\\n\\036\\n' "$SSH_ORIGINAL_COMMAND" >> ${log}\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`, { mode: 0o755 });
  return { script, log };
}

describe('ssh writeFile and readFile', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let sshd: TestSshd;
  let shell: RemoteShell;
  let host: HostSpec;
  let commandLog: string;
  const sentCommands = async () => (await readFile(commandLog, 'utf8').catch(() => '')).split('\n\u001e\n').filter(Boolean);

  before(async () => {
    scratch = await scratchDir('kubeha-ssh-files-');
    const logger = await commandLogger(scratch.dir);
    commandLog = logger.log;
    sshd = await startSshd({ authorizedKeys: [{ user: 'root', options: `command="${logger.script}",no-pty` }] });
    shell = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    host = hostFor(sshd, { name: 'cp-files' });
  });

  after(async () => {
    await shell?.close();
    await sshd?.stop();
    await scratch?.cleanup();
  });

  test('writes a new file with mode 0600, creating parents, content via stdin only', async () => {
    const secret = `-----BEGIN PRIVATE KEY-----\nMIIsecret${Date.now()}\n-----END PRIVATE KEY-----\n`;
    const target = path.join(scratch.dir, 'etc', 'kubernetes', 'pki', "it's a key.pem");
    await shell.writeFile(host, target, secret, 0o600);
    assert.equal(await readFile(target, 'utf8'), secret);
    assert.equal(statSync(target).mode & 0o7777, 0o600);
    assert.equal(statSync(path.dirname(target)).mode & 0o777, 0o755, 'parent directories get the usual 0755');
    assert.deepEqual(await readdir(path.dirname(target)), ["it's a key.pem"], 'no temp file left behind');
    const sent = await sentCommands();
    assert.ok(sent.length > 0, 'the forced command logged what we sent');
    for (const line of sent) assert.ok(!line.includes('MIIsecret'), 'the secret never appears in a command line');
  });

  test('the secret is never in the host process list, even during a slow write', async () => {
    const marker = `PSMARKER${Date.now()}`;
    // 32 MiB of content takes a while to stream, long enough to look at `ps` many times meanwhile.
    const content = `${marker}\n${'k'.repeat(32 * 1024 * 1024)}\n${marker}\n`;
    const target = path.join(scratch.dir, 'big-secret');
    let writing = true;
    let samples = 0;
    const leaks: string[] = [];
    const watcher = (async () => {
      while (writing) {
        const { stdout } = await run('ps', ['-eo', 'args'], { maxBuffer: 16 * 1024 * 1024 });
        samples += 1;
        if (stdout.includes(marker)) leaks.push(stdout);
      }
    })();
    const started = Date.now();
    await shell.writeFile(host, target, content, 0o640);
    writing = false;
    await watcher;
    console.log(`[figure] 32 MiB writeFile took ${Date.now() - started} ms; ${samples} ps samples taken meanwhile`);
    assert.ok(samples >= 2, 'ps looked while the write ran');
    assert.deepEqual(leaks, []);
    assert.equal(statSync(target).size, Buffer.byteLength(content));
    assert.equal(statSync(target).mode & 0o7777, 0o640);
  });

  test('replaces an existing file atomically: new inode, new mode, new content', async () => {
    const target = path.join(scratch.dir, 'config.yaml');
    await writeFile(target, 'old: true\n', { mode: 0o600 });
    const oldInode = statSync(target).ino;
    await shell.writeFile(host, target, 'new: true\n', 0o644);
    assert.equal(await readFile(target, 'utf8'), 'new: true\n');
    assert.equal(statSync(target).mode & 0o7777, 0o644);
    assert.notEqual(statSync(target).ino, oldInode, 'moved into place, not rewritten in place');
  });

  test('a write that cannot happen is CommandFailed and does not show the content', async () => {
    const blocker = path.join(scratch.dir, 'a-file');
    await writeFile(blocker, 'x');
    const secret = `unwritable-secret-${Date.now()}`;
    const err = await rejection(shell.writeFile(host, path.join(blocker, 'child'), secret, 0o600));
    const { failure, info } = expectFailure(err, ErrorType.CommandFailed, false);
    assert.ok(!(failure.message + JSON.stringify(info)).includes(secret));
    assert.match(String(info.command), /^write /);
  });

  test('readFile returns the content, undefined for a missing file, and fails on a directory', async () => {
    const target = path.join(scratch.dir, 'read-me.txt');
    await writeFile(target, 'line 1\nünïcode\n');
    assert.equal(await shell.readFile(host, target), 'line 1\nünïcode\n');
    assert.equal(await shell.readFile(host, path.join(scratch.dir, 'does-not-exist')), undefined);
    const dir = path.join(scratch.dir, 'a-dir');
    await mkdir(dir);
    const err = await rejection(shell.readFile(host, dir));
    expectFailure(err, ErrorType.CommandFailed, false);
  });

  test('readFile returns files larger than the 1 MiB output cap whole', async () => {
    const target = path.join(scratch.dir, 'large.txt');
    const content = 'abcdefghij'.repeat(300_000);
    await writeFile(target, content);
    assert.equal(await shell.readFile(host, target), content);
    assert.equal(existsSync(target), true);
  });
});
