/**
 * A non-root SSH user: commands go through `sudo -n -- sh -c '<command>'`. The test creates the
 * user (removed afterwards). With sudo installed it grants passwordless sudo and checks the command
 * ran as root; without it, a stand-in `sudo` on the user's PATH records its arguments and runs
 * the command as the user, which still proves the exact wrapping and quoting through a real sshd.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import type { HostSpec } from '../../common/inputs/shared';
import { shellQuote } from '../../activities/ssh/quote';
import { createSshShell } from '../../activities/ssh/shell';
import type { RemoteShell } from '../../activities/ssh/types';
import { hostFor, startSshd, type TestSshd } from '../support/sshd';
import { knownHostsIn, processAlive, rejection, scratchDir } from './helpers';

const run = promisify(execFile);

function sudoInstalled(): boolean {
  try {
    execFileSync('dpkg', ['-s', 'sudo'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('ssh as a non-root user with sudo', () => {
  const realSudo = sudoInstalled();
  const user = `khssh${randomBytes(3).toString('hex')}`;
  const sudoersFile = `/etc/sudoers.d/${user}`;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let sshd: TestSshd;
  let shell: RemoteShell;
  let host: HostSpec;
  let commandLog: string;
  let sudoArgsLog: string;
  let userCreated = false;
  const sentCommands = async () => (await readFile(commandLog, 'utf8').catch(() => '')).split('\n\u001e\n').filter(Boolean);

  before(async () => {
    scratch = await scratchDir('kubeha-ssh-sudo-');
    await chmod(scratch.dir, 0o755);
    await run('useradd', ['--create-home', '--home-dir', path.join(scratch.dir, 'home'), '--shell', '/bin/sh', user]);
    userCreated = true;
    // A fresh account is locked ("!"), and sshd without PAM refuses locked accounts even for keys.
    await run('usermod', ['-p', '*', user]);
    if (realSudo) await writeFile(sudoersFile, `${user} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });

    const shimDir = path.join(scratch.dir, 'shim');
    sudoArgsLog = path.join(scratch.dir, 'sudo-args.log');
    commandLog = path.join(scratch.dir, 'commands.log');
    await mkdir(shimDir, { mode: 0o755 });
    await writeFile(sudoArgsLog, '', { mode: 0o666 });
    await writeFile(commandLog, '', { mode: 0o666 });
    await chmod(sudoArgsLog, 0o666);
    await chmod(commandLog, 0o666);
    // Stand-in sudo: records its arguments, insists on `-n --`, then runs the rest as the user.
    await writeFile(
      path.join(shimDir, 'sudo'),
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n\\036\\n' "$a" >> ${sudoArgsLog}; done\nprintf '\\035\\n' >> ${sudoArgsLog}\n` +
        `[ "$1" = -n ] && [ "$2" = -- ] || { echo "sudo stand-in: expected -n --" >&2; exit 99; }\nshift 2\nexec "$@"\n`,
      { mode: 0o755 },
    );
    const forced = path.join(scratch.dir, 'log-command');
    const pathLine = realSudo ? '' : `PATH=${shimDir}:$PATH; export PATH\n`;
    await writeFile(
      forced,
      `#!/bin/sh\nprintf '%s\\n\\036\\n' "$SSH_ORIGINAL_COMMAND" >> ${commandLog}\n${pathLine}exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`,
      { mode: 0o755 },
    );

    sshd = await startSshd({ authorizedKeys: [{ user, options: `command="${forced}",no-pty` }] });
    shell = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    host = hostFor(sshd, { name: 'cp-sudo', user });
  });

  after(async () => {
    await shell?.close();
    await sshd?.stop();
    if (realSudo) await rm(sudoersFile, { force: true });
    if (userCreated) await run('userdel', ['--remove', user]).catch(() => run('userdel', [user]));
    await scratch?.cleanup();
  });

  test(`wraps commands as sudo -n -- sh -c '<command>' with exact quoting (${realSudo ? 'real sudo' : 'sudo stand-in: sudo is not installed'})`, async () => {
    const command = `printf '%s|%s|%s\\n' "$(id -un)" "it's \\"quoted\\"" '$HOME stays literal'`;
    const result = await shell.run(host, { command });
    assert.equal(result.exitCode, 0, result.stderr);
    const expectedUser = realSudo ? 'root' : user;
    assert.equal(result.stdout, `${expectedUser}|it's "quoted"|$HOME stays literal\n`);

    const sent = (await sentCommands()).at(-1) ?? '';
    assert.ok(sent.startsWith('sudo -n -- sh -c '), `sent: ${sent}`);
    assert.ok(sent.endsWith(shellQuote(`exec sh -c ${shellQuote(command)}`).slice(1)), 'the command is the last, quoted word');
    if (!realSudo) {
      const calls = (await readFile(sudoArgsLog, 'utf8')).split('\u001d\n').filter(Boolean);
      const args = calls.at(-1)?.split('\n\u001e\n').filter(Boolean) ?? [];
      assert.deepEqual(args.slice(0, 4), ['-n', '--', 'sh', '-c']);
      assert.equal(args.length, 5, 'the whole command is one argument');
      assert.ok(args[4].endsWith(`exec sh -c ${shellQuote(command)}`));
    }
  });

  test('sudo: false runs the command as the SSH user, unwrapped', async () => {
    const result = await shell.run(host, { command: 'id -un', sudo: false });
    assert.equal(result.stdout, `${user}\n`);
    const sent = (await sentCommands()).at(-1) ?? '';
    assert.ok(!sent.startsWith('sudo'), `sent: ${sent}`);
  });

  test('writeFile through sudo keeps the content out of the command line', async () => {
    const secret = `sudo-secret-${Date.now()}`;
    const target = path.join(scratch.dir, 'home', 'written.conf');
    await shell.writeFile(host, target, secret, 0o600);
    assert.equal(await readFile(target, 'utf8'), secret);
    for (const line of await sentCommands()) assert.ok(!line.includes(secret));
  });

  test('cancellation stops the remote process of a sudo command', async () => {
    const controller = new AbortController();
    let pid = 0;
    const err = await rejection(
      shell.run(
        host,
        { command: 'sleep 300 & echo $!; wait' },
        {
          signal: controller.signal,
          onOutput: (stream, chunk) => {
            if (stream !== 'stdout') return;
            pid = Number(chunk.trim());
            controller.abort(new CancelledFailure('stop'));
          },
        },
      ),
    );
    assert.ok(err instanceof CancelledFailure);
    assert.ok(pid > 1);
    assert.equal(processAlive(pid), false);
    const kill = (await sentCommands()).at(-1) ?? '';
    assert.ok(kill.startsWith('sudo -n -- sh -c ') && kill.includes('kill -TERM'), 'the kill went through sudo too');
  });
});
