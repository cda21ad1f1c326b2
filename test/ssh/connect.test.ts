/**
 * Connection failures and how they are classified: wrong key, unparsable key, refused port,
 * a peer that never speaks, and reconnection after the server went away.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorType } from '../../common/errors';
import { createSshShell } from '../../activities/ssh/shell';
import type { RemoteShell } from '../../activities/ssh/types';
import { generateKey, hostFor, startSshd, type TestSshd } from '../support/sshd';
import { freePort } from '../../lib/freePort';
import { expectFailure, knownHostsIn, rejection, scratchDir } from './helpers';

describe('ssh connection failures', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let sshd: TestSshd;
  let shell: RemoteShell;
  let silentPeer: net.Server | undefined;

  before(async () => {
    scratch = await scratchDir('kubeha-ssh-connect-');
    sshd = await startSshd();
    shell = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
  });

  after(async () => {
    await shell?.close();
    await sshd?.stop();
    await new Promise<void>((resolve) => (silentPeer ? silentPeer.close(() => resolve()) : resolve()));
    await scratch?.cleanup();
  });

  test('a client key the host does not accept is a non-retryable AuthenticationFailed', async () => {
    const stranger = await generateKey(path.join(scratch.dir, 'stranger'));
    const host = hostFor(sshd, { name: 'cp-3', ssh: { privateKey: { file: stranger.privateKeyPath } } });
    const err = await rejection(shell.run(host, { command: 'true' }));
    const { failure, info } = expectFailure(err, ErrorType.AuthenticationFailed, false);
    assert.match(failure.message, /cp-3/);
    assert.match(info.hint, /authorized_keys/);
  });

  test('an unparsable private key is AuthenticationFailed, and its content never shows', async () => {
    const file = path.join(scratch.dir, 'garbage_key');
    await writeFile(file, 'not-a-key-but-sensitive-text-1234', { mode: 0o600 });
    const host = hostFor(sshd, { ssh: { privateKey: { file } } });
    const err = await rejection(shell.run(host, { command: 'true' }));
    const { failure, info } = expectFailure(err, ErrorType.AuthenticationFailed, false);
    assert.doesNotMatch(failure.message + JSON.stringify(info), /sensitive-text/);
  });

  test("a missing key file is the secret store's SecretMissing", async () => {
    const host = hostFor(sshd, { ssh: { privateKey: { file: path.join(scratch.dir, 'absent') } } });
    const err = await rejection(shell.run(host, { command: 'true' }));
    expectFailure(err, ErrorType.SecretMissing, false);
  });

  test('a refused connection is a retryable Unreachable naming the host', async () => {
    const port = await freePort();
    const host = hostFor(sshd, { name: 'cp-down', ssh: { port } });
    const err = await rejection(shell.run(host, { command: 'true' }));
    const { failure, info } = expectFailure(err, ErrorType.Unreachable, true);
    assert.match(failure.message, /cp-down/);
    assert.match(failure.message, /ECONNREFUSED/);
    assert.equal(info.host, 'cp-down');
  });

  test('a peer that accepts TCP but never speaks SSH times out as a retryable Unreachable', async () => {
    const sockets: net.Socket[] = [];
    silentPeer = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silentPeer?.listen(0, '127.0.0.1', resolve));
    const { port } = silentPeer.address() as net.AddressInfo;
    const host = hostFor(sshd, { name: 'cp-silent', ssh: { port, connectTimeoutSeconds: 1 } });
    const started = Date.now();
    const err = await rejection(shell.run(host, { command: 'true' }));
    const elapsed = Date.now() - started;
    expectFailure(err, ErrorType.Unreachable, true);
    assert.ok(elapsed >= 900 && elapsed < 5000, `gave up after the connect timeout (${elapsed} ms)`);
    for (const socket of sockets) socket.destroy();
  });

  test('a server that allows fewer channels than we use: refused channels are asked for again', async () => {
    const narrow = await startSshd({ clientKey: sshd.clientKey, extraConfig: ['MaxSessions 2'] });
    const narrowShell = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    try {
      const host = hostFor(narrow);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => narrowShell.run(host, { command: `sleep 0.2; echo ${i}` })));
      assert.deepEqual(
        results.map((r) => r.stdout.trim()),
        ['0', '1', '2', '3', '4', '5'],
      );
      assert.equal((narrow.log().match(/Accepted publickey/g) ?? []).length, 1, 'still one connection');
    } finally {
      await narrowShell.close();
      await narrow.stop();
    }
  });

  test('the test sshd passes authorized key options and extra config lines through (used by the lab)', async () => {
    const custom = await startSshd({
      clientKey: sshd.clientKey,
      authorizedKeys: [{ user: 'root', options: 'environment="KUBEHA_LAB_ROLE=spare"' }],
      extraConfig: ['PermitUserEnvironment yes'],
    });
    const customShell = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    try {
      const result = await customShell.run(hostFor(custom), { command: 'echo "$KUBEHA_LAB_ROLE"' });
      assert.equal(result.stdout, 'spare\n');
    } finally {
      await customShell.close();
      await custom.stop();
    }
  });

  test('a pooled connection whose server went away is dropped, and the next call reconnects', async () => {
    const savedClient = sshd.clientKey;
    const first = await startSshd({ clientKey: savedClient });
    let second: TestSshd | undefined;
    try {
      const host = hostFor(first, { ssh: { hostKeyFingerprint: undefined, trustOnFirstUse: true } });
      assert.equal((await shell.run(host, { command: 'echo one' })).stdout, 'one\n');
      await first.stop();
      const whileDown = await rejection(shell.run(host, { command: 'true' }));
      expectFailure(whileDown, ErrorType.Unreachable, true);
      second = await startSshd({ port: first.port, clientKey: savedClient, hostKeyPath: sshd.hostKeyPath });
      // Same address and port with another host key: the TOFU record of the first server refuses it.
      const refused = await rejection(shell.run(host, { command: 'true' }));
      expectFailure(refused, ErrorType.HostKeyMismatch, false);
      const pinned = hostFor(second, { ssh: { hostKeyFingerprint: second.hostKeyFingerprint } });
      assert.equal((await shell.run(pinned, { command: 'echo two' })).stdout, 'two\n');
    } finally {
      await first.stop();
      await second?.stop();
    }
  });
});
