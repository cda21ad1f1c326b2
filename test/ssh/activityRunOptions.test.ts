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
import type { RemoteShell } from '../../activities/ssh/types';
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
      await shell.run(host, { command: `echo "joining with ${'$'}(cat)"; sleep 1.2`, stdin: secret, redact: [secret] }, activityRunOptions({ heartbeatEveryMs: 100 }));
    });
    assert.ok(beats.length >= 3, `several heartbeats (${beats.length}), most during the silent sleep`);
    assert.ok(beats.some((b) => b.lastOutput === 'joining with ***'));
    assert.ok(!JSON.stringify(beats).includes(secret));
  });

  test('activity cancellation stops the remote command and surfaces as CancelledFailure', async () => {
    const env = new MockActivityEnvironment();
    let pid = 0;
    const err = await rejection(
      env.run(async () => {
        const options = activityRunOptions({ heartbeatEveryMs: 0 });
        return shell.run(host, { command: 'sleep 300 & echo $!; wait' }, {
          ...options,
          onOutput: (stream, chunk) => {
            options.onOutput?.(stream, chunk);
            if (stream === 'stdout' && !pid) {
              pid = Number(chunk.trim());
              env.cancel();
            }
          },
        });
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
