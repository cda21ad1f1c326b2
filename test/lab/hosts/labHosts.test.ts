/**
 * Lab hosts are real sshd servers in their own mount namespaces: kubeha's SSH shell reaches them
 * with pinned host keys, their files stay in their own folders, every command line is logged,
 * stopping leaves nothing running, and the SSH faults behave as on a real network.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createSshShell } from '../../../activities/ssh';
import { FileKnownHostsStore } from '../../../activities/ssh/knownHosts';
import { ErrorType } from '../../../common/errors';
import {
  delaySsh,
  dropSsh,
  isolate,
  processesInNamespace,
  readCommandLog,
  readLabHostRecord,
  rejoin,
  restoreSsh,
  startLabHost,
  stopLabHost,
  type LabHost,
} from '../../../lab/hosts';
import { expectFailure, processAlive, rejection } from '../../ssh/helpers';
import { createTestLab, type TestLab } from './helpers';

/** Waits until the `sleep 300` started in a host's session runs in its namespace. */
async function waitForSleeper(namespace: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const found = processesInNamespace(namespace).some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\u0000300');
      } catch {
        return false;
      }
    });
    if (found) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('the daemon started in the session does not run in the namespace');
}

describe('lab hosts', () => {
  let lab: TestLab;
  let west: LabHost;
  let east: LabHost;
  const startMs: number[] = [];

  before(async () => {
    lab = await createTestLab('hosts');
    for (const [name, address] of [
      ['west-1', '127.0.10.211'],
      ['east-1', '127.0.20.211'],
    ] as const) {
      const started = Date.now();
      const host = await lab.start(name, address);
      startMs.push(Date.now() - started);
      if (name === 'west-1') west = host;
      else east = host;
    }
  });
  after(async () => {
    await lab.close();
  });

  test('start returns the host key fingerprint ssh-keygen prints, and kubeha connects with it pinned', async () => {
    assert.match(west.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.notEqual(west.hostKeyFingerprint, east.hostKeyFingerprint);
    const result = await lab.sh(west, 'echo "$KUBEHA_LAB_HOST $(id -u)"');
    assert.equal(result.stdout.trim(), 'west-1 0');
    assert.ok(
      startMs.every((ms) => ms < 5000),
      `host start took ${startMs.join(', ')} ms`,
    );
  });

  test('a wrong pinned fingerprint is refused', async () => {
    const spec = lab.spec(west);
    const wrong = { ...spec, ssh: { ...spec.ssh, hostKeyFingerprint: east.hostKeyFingerprint } };
    // A shell of its own: the lab's pooled connection to this host was verified already.
    const shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(lab.labDir, 'other_known_hosts.json')) });
    try {
      const err = await rejection(shell.run(wrong, { command: 'true' }));
      assert.match(String((err as Error).message), /host key|fingerprint/i);
    } finally {
      await shell.close();
    }
  });

  test('sessions get the lab PATH and environment', async () => {
    const { stdout } = await lab.sh(west, 'command -v sysctl; echo "$KUBEHA_LAB_DIR"; echo "$KUBEHA_LAB_STATE"');
    const [sysctl, labDir, state] = stdout.trim().split('\n');
    assert.equal(sysctl, path.join(west.toolsBin, 'sysctl'));
    assert.equal(labDir, west.labDir);
    assert.equal(state, path.join(lab.labDir, 'state.json'));
  });

  test("a file written to /etc/kubernetes lands in the host's root, not on the machine", async () => {
    const realBefore = existsSync('/etc/kubernetes/lab-test-x');
    await lab.shell.writeFile(lab.spec(west), '/etc/kubernetes/lab-test-x', 'west data\n', 0o600);
    assert.equal(readFileSync(path.join(west.rootDir, 'etc/kubernetes/lab-test-x'), 'utf8'), 'west data\n');
    assert.equal(existsSync('/etc/kubernetes/lab-test-x'), realBefore);
    assert.equal(realBefore, false);
    for (const dir of ['/var/lib/etcd', '/etc/apt/keyrings', '/etc/sysctl.d', '/var/log/kubeha-lab']) {
      await lab.sh(west, `echo here > ${dir}/lab-probe`);
      assert.ok(existsSync(path.join(west.rootDir, dir, 'lab-probe')), `${dir} is the host's`);
      assert.equal(existsSync(path.join(dir, 'lab-probe')), false, `${dir} of the machine untouched`);
    }
  });

  test("two hosts do not see each other's files", async () => {
    await lab.shell.writeFile(lab.spec(east), '/etc/kubernetes/east-only', 'east\n', 0o644);
    assert.equal(await lab.shell.readFile(lab.spec(west), '/etc/kubernetes/east-only'), undefined);
    assert.equal(await lab.shell.readFile(lab.spec(east), '/etc/kubernetes/east-only'), 'east\n');
    assert.equal(await lab.shell.readFile(lab.spec(east), '/etc/kubernetes/lab-test-x'), undefined);
  });

  test('commands.log records every command line with a timestamp, multi-line ones whole', async () => {
    await lab.sh(west, 'echo first-marker');
    await lab.sh(west, 'echo second-marker\necho third-line');
    const log = readCommandLog(path.join(west.labDir, 'commands.log'));
    const first = log.find((e) => e.command.includes('first-marker'));
    const second = log.find((e) => e.command.includes('second-marker'));
    assert.ok(first && second, 'both commands logged');
    assert.match(first.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(second.command.includes('echo second-marker\necho third-line'));
    assert.ok(log.indexOf(first) < log.indexOf(second));
    // stdin is not a command line: it never reaches the log.
    await lab.sh(west, 'cat >/dev/null', 'stdin-secret-value');
    assert.ok(!readFileSync(path.join(west.labDir, 'commands.log'), 'utf8').includes('stdin-secret-value'));
    assert.equal(
      readCommandLog(path.join(east.labDir, 'commands.log')).some((e) => e.command.includes('first-marker')),
      false,
    );
  });

  test('the host key stays the same across a restart, and the host files too', async () => {
    const name = 'west-2';
    const first = await lab.start(name, '127.0.10.212');
    await lab.shell.writeFile(lab.spec(first), '/etc/kubernetes/kept', 'kept\n', 0o644);
    await lab.shell.close();
    const stopStarted = Date.now();
    await stopLabHost(first);
    const stopMs = Date.now() - stopStarted;
    assert.ok(stopMs < 5000, `stop took ${stopMs} ms`);
    const again = await startLabHost({ labDir: lab.labDir, name, address: first.address, port: first.port });
    lab.hosts.push(again);
    assert.equal(again.hostKeyFingerprint, first.hostKeyFingerprint);
    assert.equal(await lab.shell.readFile(lab.spec(again), '/etc/kubernetes/kept'), 'kept\n');
  });

  test('stop leaves no process in the namespace, kills daemons started in sessions, and a stopped host is Unreachable', async () => {
    const host = await lab.start('west-3', '127.0.10.213');
    // A daemon that left its session: only the namespace still ties it to the host.
    await lab.sh(host, 'setsid sh -c "exec sleep 300" </dev/null >/dev/null 2>&1 & echo started');
    const record = readLabHostRecord(host.paths);
    assert.ok(record?.namespace && record.sshd && record.holder);
    await waitForSleeper(record.namespace);
    const inside = processesInNamespace(record.namespace);
    assert.ok(inside.length >= 3, `sshd, holder and the daemon run in the namespace: ${inside.join(', ')}`);
    await lab.shell.close();
    await stopLabHost(host);
    assert.deepEqual(processesInNamespace(record.namespace), []);
    assert.equal(processAlive(record.sshd.pid), false);
    assert.equal(processAlive(record.holder.pid), false);
    const err = await rejection(lab.sh(host, 'true'));
    expectFailure(err, ErrorType.Unreachable, true);
  });

  test('dropSsh refuses connections while the host goes on; restoreSsh brings it back with the same key', async () => {
    const host = await lab.start('west-4', '127.0.10.214');
    await lab.sh(host, 'setsid sh -c "exec sleep 300" </dev/null >/dev/null 2>&1 &');
    await lab.shell.close();
    await dropSsh(host);
    const err = await rejection(lab.sh(host, 'true'));
    const { info } = expectFailure(err, ErrorType.Unreachable, true);
    assert.match(JSON.stringify(info) + String((err as Error).message), /ECONNREFUSED|refused/i);
    await waitForSleeper(readLabHostRecord(host.paths)?.namespace as string);
    await restoreSsh(host);
    assert.equal((await lab.sh(host, 'echo back')).stdout.trim(), 'back');
  });

  test('delaySsh adds latency to every round trip, and 0 removes it', async () => {
    const host = await lab.start('west-5', '127.0.10.215');
    let step = 0;
    const timed = async () => {
      const started = Date.now();
      step += 1;
      // Not `true`: a command that ends at once can have its exit status arrive in the same read as
      // the channel's opening, which kubeha's shell does not listen for yet (a transport bug, reported).
      await lab.sh(host, 'sleep 0.1').catch((err: Error) => assert.fail(`command ${step}: ${err.message}`));
      return Date.now() - started;
    };
    await timed();
    const fast = await timed();
    await delaySsh(host, 150);
    // The pooled connection went to sshd directly: reconnect through the proxy.
    await lab.shell.close();
    await timed();
    const published = readLabHostRecord(host.paths);
    assert.equal(published?.port, host.port, 'the published port stays');
    assert.notEqual(published?.sshdPort, host.port, 'sshd moved behind the proxy');
    const slow = await timed();
    assert.ok(slow >= fast + 300, `a command takes several delayed round trips: ${fast} ms before, ${slow} ms after`);
    await delaySsh(host, 0);
    await lab.shell.close();
    await timed();
    const again = await timed();
    assert.ok(again < slow, `${again} ms without delay`);
  });

  test('isolate cuts the host off and rejoin restores it', async () => {
    const host = await lab.start('west-6', '127.0.10.216');
    assert.equal((await lab.sh(host, 'echo up')).stdout.trim(), 'up');
    await lab.shell.close();
    await isolate(host);
    try {
      const err = await rejection(lab.sh(host, 'true'));
      expectFailure(err, ErrorType.Unreachable, true);
      // The other hosts are not affected.
      assert.equal((await lab.sh(west, 'echo fine')).stdout.trim(), 'fine');
    } finally {
      await rejoin(host);
    }
    assert.equal((await lab.sh(host, 'echo again')).stdout.trim(), 'again');
  });

  test('the lab creates missing mount points on the machine and removes them once no host uses them', () => {
    const registry = JSON.parse(readFileSync('/run/kubeha-lab/mountpoints.json', 'utf8')) as { created: string[]; users: { id: string }[] };
    for (const dir of registry.created) assert.ok(existsSync(dir), `${dir} exists while hosts run`);
    assert.ok(registry.users.some((u) => u.id === west.paths.hostDir));
    // A created parent (/etc/cni, when the machine has none) holds the lab's own child mount point (net.d), nothing else.
    for (const dir of registry.created) {
      const foreign = readdirSync(dir).filter((entry) => !registry.created.includes(path.join(dir, entry)));
      assert.deepEqual(foreign, [], `${dir} on the machine holds nothing but the lab's own mount points`);
    }
  });
});
