/**
 * Running commands over a real sshd: output, exit codes, stdin, large output, failure
 * classification, redaction, timeouts, cancellation, connection reuse and loss.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { createSshShell } from '../../activities/ssh/shell';
import { shellQuote } from '../../activities/ssh/quote';
import type { RemoteShell } from '../../activities/ssh/types';
import { descendantsOf, hostFor, startSshd, type TestSshd } from '../support/sshd';
import { expectFailure, knownHostsIn, processAlive, rejection, scratchDir } from './helpers';

describe('ssh run against a real sshd', () => {
  let sshd: TestSshd;
  let shell: RemoteShell;
  let host: HostSpec;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  before(async () => {
    scratch = await scratchDir('kubeha-ssh-run-');
    sshd = await startSshd();
    shell = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    host = hostFor(sshd, { name: 'cp-1' });
  });

  after(async () => {
    await shell?.close();
    await sshd?.stop();
    await scratch?.cleanup();
  });

  test('returns stdout, stderr and the exit code, without the wrapper line', async () => {
    const result = await shell.run(host, { command: 'echo out; echo err >&2; exit 7' });
    assert.equal(result.exitCode, 7);
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.stderr, 'err\n');
    assert.ok(result.durationMs >= 0);
  });

  test('quotes nothing away: quotes, dollars and backslashes reach the command intact', async () => {
    const tricky = [`it's`, '"double"', '$HOME', 'a\\b', '`id`', '; echo injected'];
    const result = await shell.run(host, { command: `printf '%s\\n' ${tricky.map(shellQuote).join(' ')}` });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.stdout.split('\n').slice(0, -1), tricky);
  });

  test('delivers stdin and closes it', async () => {
    const text = 'línea 1\nline "2"\n$NOT_EXPANDED\n';
    const echoed = await shell.run(host, { command: 'cat', stdin: text });
    assert.equal(echoed.stdout, text);
    const big = 'x'.repeat(3 * 1024 * 1024);
    const counted = await shell.run(host, { command: 'wc -c', stdin: big });
    assert.equal(counted.stdout.trim(), String(big.length));
  });

  test('streams large output and keeps only the last MiB', async () => {
    const size = 5 * 1024 * 1024;
    let streamed = 0;
    const started = Date.now();
    const result = await shell.run(
      host,
      { command: `head -c ${size} /dev/zero | tr '\\0' x; printf END` },
      { onOutput: (stream, chunk) => (streamed += stream === 'stdout' ? chunk.length : 0) },
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(streamed, size + 3);
    assert.equal(result.stdout.length, 1024 * 1024);
    assert.ok(result.stdout.endsWith('xxxEND'));
    console.log(`[figure] 5 MiB of stdout streamed in ${seconds.toFixed(2)} s (${(5 / seconds).toFixed(1)} MiB/s)`);
  });

  test('runChecked: a non-zero exit is a non-retryable CommandFailed with exit code, label and stderr tail', async () => {
    const err = await rejection(shell.runChecked(host, { command: 'for i in $(seq 1 30); do echo "problem $i" >&2; done; exit 3', label: 'count problems' }));
    const { failure, info } = expectFailure(err, ErrorType.CommandFailed, false);
    assert.equal(info.exitCode, 3);
    assert.equal(info.command, 'count problems');
    assert.equal(info.host, 'cp-1');
    const tail = String(info.stderrTail).split('\n');
    assert.equal(tail.length, 20);
    assert.equal(tail[0], 'problem 11');
    assert.equal(tail[19], 'problem 30');
    assert.match(failure.message, /"count problems" on cp-1 .* exited with 3: problem 30/);
  });

  test('runChecked: the label defaults to the first word (after env assignments), never the whole command line', async () => {
    const err = await rejection(shell.runChecked(host, { command: 'false --token=abc123 && echo never' }));
    const { failure, info } = expectFailure(err, ErrorType.CommandFailed, false);
    assert.equal(info.command, 'false');
    assert.doesNotMatch(failure.message + JSON.stringify(info), /abc123/);
    const withEnv = await rejection(shell.runChecked(host, { command: 'TOKEN=xyz789 sh -c "exit 4"' }));
    const envFailure = expectFailure(withEnv, ErrorType.CommandFailed, false);
    assert.equal(envFailure.info.command, 'sh');
    assert.equal(envFailure.info.exitCode, 4);
    assert.doesNotMatch(envFailure.failure.message + JSON.stringify(envFailure.info), /xyz789/);
  });

  test('runChecked: known transient output is a retryable CommandTransient', async () => {
    const dpkg = await rejection(
      shell.runChecked(host, {
        command: `echo 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)' >&2; exit 100`,
        label: 'apt-get install',
      }),
    );
    const { info } = expectFailure(dpkg, ErrorType.CommandTransient, true);
    assert.equal(info.exitCode, 100);
    assert.match(String(info.transientReason), /lock/);
    const etcd = await rejection(shell.runChecked(host, { command: `echo '{"level":"warn","error":"etcdserver: leader changed"}' >&2; exit 1` }));
    expectFailure(etcd, ErrorType.CommandTransient, true);
    const api = await rejection(shell.runChecked(host, { command: `echo 'dial tcp 127.0.0.1:6443: connect: connection refused' >&2; exit 1` }));
    expectFailure(api, ErrorType.CommandTransient, true);
    const other = await rejection(shell.runChecked(host, { command: `echo 'dial tcp 10.0.0.9:8080: connect: connection refused' >&2; exit 1` }));
    expectFailure(other, ErrorType.CommandFailed, false);
  });

  test('redacts secret values in errors and streamed output', async () => {
    const secret = 'S3cr3t-Value-9f8e7d';
    const chunks: string[] = [];
    const err = await rejection(
      shell.runChecked(
        host,
        { command: 's=$(cat); echo "token is $s"; echo "token is $s" >&2; exit 1', stdin: `${secret}\n`, redact: [secret], label: 'show token' },
        { onOutput: (_stream, chunk) => chunks.push(chunk) },
      ),
    );
    const { failure, info } = expectFailure(err, ErrorType.CommandFailed, false);
    const everything = `${failure.message}\n${JSON.stringify(info)}\n${chunks.join('')}`;
    assert.doesNotMatch(everything, new RegExp(secret));
    assert.match(chunks.join(''), /\*\*\*/);
  });

  test('a command that outlives timeoutMs is stopped, remote process included: retryable CommandTimeout', async () => {
    let sleepPid = 0;
    const started = Date.now();
    const err = await rejection(
      shell.run(
        host,
        { command: 'sleep 300 & echo $!; wait', timeoutMs: 1500, label: 'long sleep' },
        {
          onOutput: (stream, chunk) => {
            if (stream === 'stdout') sleepPid = Number(chunk.trim());
          },
        },
      ),
    );
    const { info } = expectFailure(err, ErrorType.CommandTimeout, true);
    assert.equal(info.command, 'long sleep');
    assert.ok(Date.now() - started < 10_000, 'stopped promptly');
    assert.ok(sleepPid > 1, 'the command reported its pid');
    assert.equal(processAlive(sleepPid), false, 'the remote sleep is gone');
  });

  test('a command that ignores TERM is killed after the grace period', async () => {
    let pid = 0;
    const started = Date.now();
    const err = await rejection(
      shell.run(
        host,
        { command: "trap '' TERM; sleep 300 & echo $!; wait; wait", timeoutMs: 500 },
        {
          onOutput: (stream, chunk) => {
            if (stream === 'stdout') pid = Number(chunk.trim());
          },
        },
      ),
    );
    expectFailure(err, ErrorType.CommandTimeout, true);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 3000, `waited the TERM grace before KILL (${elapsed} ms)`);
    assert.ok(pid > 1);
    assert.equal(processAlive(pid), false);
  });

  test('cancellation kills the remote process group and rethrows the signal reason', async () => {
    const controller = new AbortController();
    const pids: number[] = [];
    let abortedAt = 0;
    const running = shell.run(
      host,
      { command: 'sh -c "sleep 300" & echo $$ $!; wait' },
      {
        signal: controller.signal,
        onOutput: (stream, chunk) => {
          if (stream !== 'stdout') return;
          pids.push(...chunk.trim().split(' ').map(Number));
          abortedAt = Date.now();
          controller.abort(new CancelledFailure('operator cancelled'));
        },
      },
    );
    const err = await rejection(running);
    assert.ok(err instanceof CancelledFailure);
    assert.equal(err.message, 'operator cancelled');
    console.log(`[figure] cancellation to remote group killed: ${Date.now() - abortedAt} ms`);
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.equal(processAlive(pid), false, `remote pid ${pid} is gone`);
    // Also ask the host itself, through the same pooled connection. An orphan may linger as a zombie
    // (Z) until init reaps it; it no longer runs.
    const check = await shell.run(host, { command: `cut -d' ' -f3 /proc/${pids[1]}/stat 2>/dev/null || echo gone` });
    assert.match(check.stdout.trim(), /^(gone|Z)$/);
  });

  test('an already aborted signal runs nothing', async () => {
    const controller = new AbortController();
    controller.abort(new CancelledFailure('before start'));
    const err = await rejection(shell.run(host, { command: `touch ${scratch.dir}/should-not-exist` }, { signal: controller.signal }));
    assert.ok(err instanceof CancelledFailure);
    const check = await shell.run(host, { command: `test -e ${scratch.dir}/should-not-exist; echo $?` });
    assert.equal(check.stdout.trim(), '1');
  });

  test('reuses one TCP connection for successive commands', async () => {
    const fresh = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    try {
      const logins = () => (sshd.log().match(/Accepted publickey/g) ?? []).length;
      const before = logins();
      const first = await fresh.run(host, { command: 'echo $SSH_CONNECTION' });
      const second = await fresh.run(host, { command: 'echo $SSH_CONNECTION' });
      const [both] = await Promise.all([fresh.run(host, { command: 'echo $SSH_CONNECTION' }), fresh.run(host, { command: 'true' })]);
      assert.match(first.stdout, /^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+\n$/);
      assert.equal(second.stdout, first.stdout);
      assert.equal(both.stdout, first.stdout);
      assert.equal(logins() - before, 1, 'one login for four commands');
    } finally {
      await fresh.close();
    }
  });

  test('more commands at once than sshd allows channels queue on the one connection instead of failing', async () => {
    const fresh = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    try {
      const logins = () => (sshd.log().match(/Accepted publickey/g) ?? []).length;
      const before = logins();
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => fresh.run(host, { command: `echo ${i}` })));
      assert.deepEqual(
        results.map((r) => r.stdout),
        Array.from({ length: 24 }, (_, i) => `${i}\n`),
      );
      assert.equal(logins() - before, 1);
    } finally {
      await fresh.close();
    }
  });

  test('a connection lost mid-command is a retryable Unreachable; the next call reconnects', async () => {
    const fresh = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    try {
      let sessionPid = 0;
      let commandPid = 0;
      const running = fresh.run(
        host,
        { command: 'echo $PPID $$; exec sleep 300', label: 'sleeper' },
        {
          onOutput: (stream, chunk) => {
            if (stream !== 'stdout' || sessionPid) return;
            [sessionPid, commandPid] = chunk.trim().split(' ').map(Number);
            // The sshd process serving this connection: ours (a descendant of the test sshd), so we may kill it.
            assert.ok(descendantsOf(sshd.pid).includes(sessionPid));
            process.kill(sessionPid, 'SIGKILL');
          },
        },
      );
      const err = await rejection(running);
      const { failure } = expectFailure(err, ErrorType.Unreachable, true);
      assert.match(failure.message, /sleeper.*cp-1/);
      const again = await fresh.run(host, { command: 'echo back' });
      assert.equal(again.stdout, 'back\n');
      // OpenSSH leaves the command running when its connection dies; end it here, it escaped sshd's tree.
      process.kill(commandPid, 'SIGKILL');
    } finally {
      await fresh.close();
    }
  });
});
