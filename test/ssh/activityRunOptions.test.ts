/**
 * activityRunOptions inside a Temporal activity context (the SDK's MockActivityEnvironment) and
 * outside one, with commands on a real sshd; plus the streaming redactor it relies on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { HostSpec } from '../../common/inputs/shared';
import { activityRunOptions, type CommandHeartbeat } from '../../activities/ssh/activityRunOptions';
import { StreamRedactor } from '../../activities/ssh/output';
import { createSshShell } from '../../activities/ssh/shell';
import type { CommandResult, RemoteShell } from '../../activities/ssh/types';
import { hostFor, startSshd, type TestSshd } from '../support/sshd';
import { knownHostsIn, processAlive, rejection, scratchDir } from './helpers';

describe('activityRunOptions', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let sshd: TestSshd;
  let shell: RemoteShell;
  let host: HostSpec;

  before(async () => {
    scratch = await scratchDir('kubeha-ssh-activity-');
    sshd = await startSshd();
    shell = createSshShell({ knownHosts: knownHostsIn(scratch.dir), tickIntervalMs: 200 });
    host = hostFor(sshd);
  });

  after(async () => {
    await shell?.close();
    await sshd?.stop();
    await scratch?.cleanup();
  });

  test('outside an activity it is empty, and commands still run', async () => {
    const options = activityRunOptions();
    assert.deepEqual(options, {});
    assert.equal((await shell.run(host, { command: 'echo plain' }, options)).stdout, 'plain\n');
  });

  test('heartbeats the last output line, redacted, and keeps beating while the command is silent', async () => {
    const env = new MockActivityEnvironment();
    const beats: CommandHeartbeat[] = [];
    env.on('heartbeat', (details: CommandHeartbeat) => beats.push(details));
    const secret = 'tok-7a6b5c4d3e';
    await env.run(async () => {
      await shell.run(
        host,
        { command: `echo "joining with ${'$'}(cat)"; sleep 1.2`, stdin: secret, redact: [secret] },
        activityRunOptions({ heartbeatEveryMs: 100 }),
      );
    });
    assert.ok(beats.length >= 3, `several heartbeats (${beats.length}), most during the silent sleep`);
    assert.ok(beats.some((b) => b.lastOutput === 'joining with ***'));
    assert.ok(!JSON.stringify(beats).includes(secret));
  });

  test('a command that prints a new secret (secretOutput) never puts it in a heartbeat; the caller still gets it', async () => {
    const env = new MockActivityEnvironment();
    const beats: CommandHeartbeat[] = [];
    env.on('heartbeat', (details: CommandHeartbeat) => beats.push(details));
    // What `kubeadm certs certificate-key` prints: a key nobody knew before, so no redact list names it.
    const key = 'c0ffee'.repeat(10) + 'abcd';
    const result: CommandResult = await env.run(() =>
      shell.run(
        host,
        { command: `echo "${key}"; echo "progress on stderr" >&2; sleep 0.6`, secretOutput: true, label: 'kubeadm certs certificate-key' },
        activityRunOptions({ heartbeatEveryMs: 50 }),
      ),
    );
    assert.equal(result.stdout.trim(), key, 'the caller gets the secret');
    assert.ok(beats.length >= 2, `it kept heartbeating (${beats.length})`);
    assert.ok(
      beats.some((b) => b.lastOutput === 'progress on stderr'),
      'stderr still streams',
    );
    // The scan: every heartbeat, as JSON, searched for the key and for any long part of it.
    const recorded = JSON.stringify(beats);
    for (let at = 0; at + 16 <= key.length; at += 8) assert.ok(!recorded.includes(key.slice(at, at + 16)), `no part of the key at ${at} in ${recorded}`);

    // The control: without the flag the same output does reach the heartbeats, so the scan can see it.
    const control: CommandHeartbeat[] = [];
    const env2 = new MockActivityEnvironment();
    env2.on('heartbeat', (details: CommandHeartbeat) => control.push(details));
    await env2.run(() => shell.run(host, { command: `echo "${key}"; sleep 0.3` }, activityRunOptions({ heartbeatEveryMs: 50 })));
    assert.ok(JSON.stringify(control).includes(key));
  });

  test("readFile never streams a file's content into heartbeats (admin.conf holds a client key); the caller gets it whole", async () => {
    const key = 'LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t' + 'deadbeef'.repeat(6);
    const file = `/tmp/kubeha-read-${process.pid}-${Date.now()}.conf`;
    await shell.writeFile(
      host,
      file,
      `client-key-data: ${key}
`,
      0o600,
    );
    const env = new MockActivityEnvironment();
    const beats: CommandHeartbeat[] = [];
    env.on('heartbeat', (details: CommandHeartbeat) => beats.push(details));
    const text = await env.run(() => shell.readFile(host, file, activityRunOptions({ heartbeatEveryMs: 10 })));
    assert.equal(text, `client-key-data: ${key}\n`);
    const recorded = JSON.stringify(beats);
    for (let at = 0; at + 16 <= key.length; at += 8) assert.ok(!recorded.includes(key.slice(at, at + 16)), `no part of the key at ${at} in ${recorded}`);
    // The control: the same content printed by a plain command does reach the heartbeats.
    const control: CommandHeartbeat[] = [];
    const env2 = new MockActivityEnvironment();
    env2.on('heartbeat', (details: CommandHeartbeat) => control.push(details));
    await env2.run(() => shell.run(host, { command: `cat ${file}; sleep 0.3` }, activityRunOptions({ heartbeatEveryMs: 50 })));
    assert.ok(JSON.stringify(control).includes(key));
    await shell.run(host, { command: `rm -f ${file}` });
  });

  test('activity cancellation stops the remote command and surfaces as CancelledFailure', async () => {
    const env = new MockActivityEnvironment();
    let pid = 0;
    const err = await rejection(
      env.run(async () => {
        const options = activityRunOptions({ heartbeatEveryMs: 0 });
        return shell.run(
          host,
          { command: 'sleep 300 & echo $!; wait' },
          {
            ...options,
            onOutput: (stream, chunk) => {
              options.onOutput?.(stream, chunk);
              if (stream === 'stdout' && !pid) {
                pid = Number(chunk.trim());
                env.cancel();
              }
            },
          },
        );
      }),
    );
    assert.ok(err instanceof CancelledFailure, String(err));
    assert.ok(pid > 1);
    assert.equal(processAlive(pid), false, 'the remote sleep is gone');
  });

  test('the streaming redactor masks a secret split across chunks', () => {
    const secret = 'ABCDEFGH';
    const redactor = new StreamRedactor([secret]);
    const pieces = ['xx AB', 'CD', 'EFG', 'H yy ABC', 'DEFGH', ' end'];
    const out = pieces.map((p) => redactor.write(p)).join('') + redactor.flush();
    assert.equal(out, 'xx *** yy *** end');
    // Text that cannot start a secret is not held back.
    const fresh = new StreamRedactor([secret]);
    assert.equal(fresh.write('line one\n'), 'line one\n');
    assert.equal(fresh.write('then ABC'), 'then ');
    assert.equal(fresh.write('X'), 'ABCX');
  });
});
