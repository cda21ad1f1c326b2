/**
 * Host key verification against real sshd servers: pinned fingerprints, mismatches that run
 * nothing, and trust on first use that records the key and then holds to it.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorType } from '../../common/errors';
import { sshFingerprint } from '../../activities/ssh/fingerprint';
import { createSshShell } from '../../activities/ssh/shell';
import type { RemoteShell } from '../../activities/ssh/types';
import { generateKey, hostFor, startSshd, type TestSshd } from '../support/sshd';
import { expectFailure, knownHostsIn, rejection, scratchDir } from './helpers';

describe('ssh host keys', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  const servers: TestSshd[] = [];
  const shells: RemoteShell[] = [];
  const newShell = () => {
    const shell = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    shells.push(shell);
    return shell;
  };
  const newServer = async (options: Parameters<typeof startSshd>[0] = {}) => {
    const server = await startSshd(options);
    servers.push(server);
    return server;
  };

  before(async () => {
    scratch = await scratchDir('kubeha-ssh-hostkeys-');
  });

  after(async () => {
    for (const shell of shells) await shell.close();
    for (const server of servers) await server.stop();
    await scratch?.cleanup();
  });

  test('our fingerprint of the key sshd shows equals what ssh-keygen -lf prints', async () => {
    const server = await newServer();
    const blob = Buffer.from((await readFile(`${server.hostKeyPath}.pub`, 'utf8')).split(' ')[1], 'base64');
    assert.equal(sshFingerprint(blob), server.hostKeyFingerprint);
    assert.match(server.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const result = await newShell().run(hostFor(server), { command: 'echo pinned-ok' });
    assert.equal(result.stdout, 'pinned-ok\n');
  });

  test('a host showing another key than the pinned one is refused before anything runs', async () => {
    const expected = await newServer();
    // On another loopback address too: the support starts sshd on any 127.0.0.x.
    const impostor = await newServer({ address: '127.0.0.2' });
    const marker = path.join(scratch.dir, 'mismatch-marker');
    const host = hostFor(impostor, { name: 'cp-2', ssh: { hostKeyFingerprint: expected.hostKeyFingerprint } });
    const err = await rejection(newShell().run(host, { command: `touch ${marker}` }));
    const { failure, info } = expectFailure(err, ErrorType.HostKeyMismatch, false);
    assert.ok(failure.message.includes(expected.hostKeyFingerprint), 'message shows the expected fingerprint');
    assert.ok(failure.message.includes(impostor.hostKeyFingerprint), 'message shows the seen fingerprint');
    assert.match(failure.message, /cp-2/);
    assert.match(info.hint, /ssh-keygen -lf/);
    assert.match(info.hint, /hostKeyFingerprint/);
    assert.equal(existsSync(marker), false, 'no command ran');
    assert.doesNotMatch(impostor.log(), /Accepted publickey/, 'we never even authenticated');
  });

  test('trust on first use records the first key, accepts it again, and refuses another key later', async () => {
    const knownHostsFile = path.join(scratch.dir, 'known_hosts.json');
    // One client key for all three servers, kept outside their directories.
    const clientKey = await generateKey(path.join(scratch.dir, 'tofu_client'));
    const first = await newServer({ clientKey });
    const tofu = { hostKeyFingerprint: undefined, trustOnFirstUse: true };
    const host = hostFor(first, { name: 'lab-1', ssh: tofu });

    const ran = await newShell().run(host, { command: 'echo first-use' });
    assert.equal(ran.stdout, 'first-use\n');
    const recorded = JSON.parse(await readFile(knownHostsFile, 'utf8'));
    const entry = recorded.hosts[`[${first.address}]:${first.port}`];
    assert.equal(entry.fingerprint, first.hostKeyFingerprint);
    assert.equal(entry.keyType, 'ssh-ed25519');
    assert.equal(entry.hostName, 'lab-1');

    // Keep the original identity, then put a server with another key on the same address and port.
    const savedKey = path.join(scratch.dir, 'first_host_key');
    await copyFile(first.hostKeyPath, savedKey);
    await copyFile(`${first.hostKeyPath}.pub`, `${savedKey}.pub`);
    await first.stop();
    const replaced = await newServer({ port: first.port, clientKey });
    const marker = path.join(scratch.dir, 'tofu-marker');
    const err = await rejection(newShell().run(host, { command: `touch ${marker}` }));
    const { failure, info } = expectFailure(err, ErrorType.HostKeyMismatch, false);
    assert.ok(failure.message.includes(first.hostKeyFingerprint));
    assert.ok(failure.message.includes(replaced.hostKeyFingerprint));
    assert.match(info.hint, /known_hosts\.json/);
    assert.equal(existsSync(marker), false, 'no command ran');
    await replaced.stop();

    // The original key on the same port is accepted again: the store pins, it does not refuse everything.
    const restored = await newServer({ port: first.port, hostKeyPath: savedKey, clientKey });
    const back = await newShell().run(host, { command: 'echo same-key' });
    assert.equal(back.stdout, 'same-key\n');
    assert.equal(restored.hostKeyFingerprint, first.hostKeyFingerprint);
  });

  test('no pinned key and no trust on first use is refused as invalid input', async () => {
    const server = await newServer();
    const host = hostFor(server, { ssh: { hostKeyFingerprint: undefined, trustOnFirstUse: false } });
    const err = await rejection(newShell().run(host, { command: 'true' }));
    const { info } = expectFailure(err, ErrorType.InvalidInput, false);
    assert.equal(info.seenFingerprint, server.hostKeyFingerprint);
  });
});
