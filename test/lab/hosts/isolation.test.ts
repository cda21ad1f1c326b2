/**
 * The lab's `isolate` fault cuts a host off from the others both ways, on real processes: its sshd
 * is out of reach of the machine and of the other hosts, its own processes reach no other host or
 * machine service, established connections stall; its processes still reach each other. `rejoin`
 * restores all of it. Each host's connections leave from its own address all along. The rules are
 * labelled per lab: rejoin, lab down and the next lab up after a crash remove exactly the lab's own.
 */
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createSshShell, FileKnownHostsStore } from '../../../activities/ssh';
import type { RemoteShell } from '../../../activities/ssh/types';
import { ErrorType } from '../../../common/errors';
import { labHostSpec, listLabRules, readLabHostRecord, removeLabRules, type LabHostRecord } from '../../../lab/hosts';
import { hostCgroup, inCgroup } from '../../../lab/hosts/hostCgroup';
import { labHostPaths } from '../../../lab/hosts/layout';
import { applyLabAwsEnvironment, labDown, labFault, labUp, parseTopology, type LabUpResult } from '../../../lab/orchestrator';
import { expectFailure, rejection } from '../../ssh/helpers';
import { asHost, connectFromMachine, connectScript, insertOtherLabRule, Received, type ScriptResult } from './isolationSupport';
import { buildHandMadeCluster } from './isolationCluster';

const run = promisify(execFile);

const LABEL = `isolation-${process.pid}`;
/** Another lab's label: its rules must survive everything this lab does. */
const OTHER_LABEL = `${LABEL}-other`;
/** A machine service (a listener of this test) on an address of this suite's range. */
const MACHINE_ADDRESS = '127.0.15.110';
const HOSTS = [
  { name: 'iso-1', address: '127.0.15.101', role: 'control-plane' },
  { name: 'iso-2', address: '127.0.15.102', role: 'control-plane' },
  { name: 'iso-3', address: '127.0.15.103', role: 'control-plane' },
] as const;

function topology() {
  return parseTopology({
    clusters: [{ name: 'isowest', region: 'us-west-2', vpcCidr: '10.85.0.0/16', hosts: HOSTS.map((h) => ({ ...h })) }],
    loadBalancerAddressPrefix: '127.0.85',
    hostsBlockLabel: LABEL,
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('isolate and rejoin on a lab', { timeout: 10 * 60_000 }, () => {
  let dataDir: string;
  let lab: LabUpResult;
  let shell: RemoteShell;
  const record = (name: string): LabHostRecord => readLabHostRecord(labHostPaths(lab.paths.labDir, name))!;
  const spec = (name: string) => {
    const r = record(name);
    return labHostSpec({ ...r, paths: labHostPaths(lab.paths.labDir, name), rootDir: '', labDir: '', clientKeyPath: lab.state.clientKey });
  };
  const sh = (name: string, command: string) => shell.run(spec(name), { command, timeoutMs: 60_000 });
  const rules = async (host?: string, kind?: 'source' | 'isolate') => (await listLabRules(LABEL, host, kind)).map((r) => r.comment);

  before(async () => {
    dataDir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'kubeha-isolation-'));
    applyLabAwsEnvironment();
    lab = await labUp({ dataDir, topology: topology() });
    shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dataDir, 'known_hosts.json')) });
    // Another lab's rule, on an address of this range that no host uses.
    await insertOtherLabRule(OTHER_LABEL, '127.0.15.109');
  });

  after(async () => {
    await shell?.close();
    if (dataDir) {
      await labDown({ dataDir });
      rmSync(dataDir, { recursive: true, force: true });
    }
    await removeLabRules(OTHER_LABEL);
  });

  test("each host's connections leave from its own address, and each host has its own rule for that", async () => {
    const seen: string[] = [];
    const server = net.createServer((socket) => {
      seen.push(socket.remoteAddress ?? '');
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, MACHINE_ADDRESS, resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      for (const host of HOSTS) assert.equal((await sh(host.name, connectScript(MACHINE_ADDRESS, port))).exitCode, 0);
      const fromMachine = await connectFromMachine(MACHINE_ADDRESS, port);
      assert.equal(fromMachine, 'connected');
      await pause(100);
      assert.deepEqual(seen, [...HOSTS.map((h) => h.address), '127.0.0.1'], 'hosts connect from their address; the machine from 127.0.0.1');
    } finally {
      server.close();
    }
    assert.deepEqual(
      (await rules()).sort(),
      HOSTS.map((h) => `kubeha-lab:${LABEL}:${h.name}:source`),
    );
    assert.deepEqual(await rules(undefined, 'isolate'), []);
  });

  test('isolate cuts the host off both ways; its own processes still reach each other; rejoin restores everything', async () => {
    const [cut, peer, third] = HOSTS;
    const cutRecord = record(cut.name);

    // Before: the host reaches a peer's sshd, and a peer reaches its sshd.
    assert.equal((await asHost(cutRecord, connectScript(peer.address, 22))).code, 0);
    assert.equal((await sh(peer.name, connectScript(cut.address, 22))).exitCode, 0);

    // Established before the cut: the machine's connection to the host's sshd, and the host's to a machine service.
    const toHost = net.connect(22, cut.address);
    toHost.on('error', () => undefined);
    const fromSshd = new Received(toHost);
    await fromSshd.waitFor(/^SSH-2\.0-/, "sshd's banner");
    let serviceSocket: net.Socket | undefined;
    let serviceRemote = '';
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      serviceSocket = socket;
      serviceRemote = socket.remoteAddress ?? '';
    });
    await new Promise<void>((resolve) => server.listen(0, MACHINE_ADDRESS, resolve));
    const { port } = server.address() as net.AddressInfo;
    const [program, ...args] = inCgroup(cutRecord.cgroup, [
      'nsenter',
      `--mount=/proc/${cutRecord.holder!.pid}/ns/mnt`,
      '--',
      'bash',
      '-c',
      `exec 3<>/dev/tcp/${MACHINE_ADDRESS}/${port} && exec cat <&3`,
    ]);
    const reader = spawn(program, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const fromService = new Received(reader.stdout);
    try {
      for (let i = 0; i < 200 && !serviceSocket; i++) await pause(25);
      assert.ok(serviceSocket, "the host's process connected to the machine service");
      assert.equal(serviceRemote, cut.address);
      serviceSocket.write('one\n');
      await fromService.waitFor(/one\n/, 'data before the cut');

      assert.match(await labFault('isolate', [cut.name], dataDir), /cut off/);
      assert.equal(record(cut.name).isolated, true);
      assert.deepEqual(await rules(cut.name, 'isolate'), [`kubeha-lab:${LABEL}:${cut.name}:isolate`, `kubeha-lab:${LABEL}:${cut.name}:isolate`]);

      // The machine cannot reach the host: a raw connect and kubeha's SSH both fail.
      assert.equal(await connectFromMachine(cut.address, 22), 'EHOSTUNREACH');
      await shell.close();
      expectFailure(await rejection(sh(cut.name, 'true')), ErrorType.Unreachable, true);
      // The host reaches no other host and no machine service.
      const outgoing = await asHost(cutRecord, connectScript(peer.address, 22));
      assert.notEqual(outgoing.code, 0);
      assert.match(outgoing.output, /No route to host/);
      assert.match((await asHost(cutRecord, connectScript(MACHINE_ADDRESS, port))).output, /No route to host/);
      // The other hosts cannot reach it, but still reach each other.
      const incoming = await sh(peer.name, connectScript(cut.address, 22));
      assert.notEqual(incoming.exitCode, 0);
      assert.match(incoming.stderr + incoming.stdout, /No route to host/);
      assert.equal((await sh(peer.name, connectScript(third.address, 22))).exitCode, 0);
      // Inside the host, its processes still reach each other (its sshd on its own address).
      assert.equal((await asHost(cutRecord, connectScript(cut.address, 22))).code, 0);
      // Established connections stall both ways: nothing gets through while the host is cut off.
      toHost.write('SSH-2.0-isolation-test\r\n');
      serviceSocket.write('two\n');
      await pause(2000);
      assert.doesNotMatch(fromSshd.text, /\r\n[\s\S]+/, "sshd's answer to our identification waits");
      assert.doesNotMatch(fromService.text, /two/, "the machine service's data waits");

      assert.match(await labFault('rejoin', [cut.name], dataDir), /connected again/);
      assert.deepEqual(await rules(cut.name, 'isolate'), []);
      assert.equal(record(cut.name).isolated, undefined);
      // The stalled connections resume.
      await fromSshd.waitFor(/\r\n[\s\S]+/, "sshd's key exchange after rejoin");
      await fromService.waitFor(/two\n/, "the machine service's data after rejoin");
      // Both ways work again.
      assert.equal(await connectFromMachine(cut.address, 22), 'connected');
      assert.equal((await sh(cut.name, 'echo back')).stdout.trim(), 'back');
      assert.equal((await asHost(cutRecord, connectScript(peer.address, 22))).code, 0);
      assert.equal((await sh(peer.name, connectScript(cut.address, 22))).exitCode, 0);
      assert.equal((await rules()).length, HOSTS.length, 'the source rules stay');
    } finally {
      await labFault('rejoin', [cut.name], dataDir);
      toHost.destroy();
      reader.kill('SIGKILL');
      server.close();
    }
  });

  test("a crashed lab's next lab up removes the lab's leftover rules, and only those", async () => {
    const victim = HOSTS[2];
    await labFault('isolate', [victim.name], dataDir);
    // A rule whose host record was lost in the crash.
    await run('iptables', [
      '-w',
      '-t',
      'filter',
      '-I',
      'INPUT',
      '-i',
      'lo',
      '-d',
      '127.0.15.108',
      '-m',
      'comment',
      '--comment',
      `kubeha-lab:${LABEL}:ghost:isolate`,
      '-j',
      'REJECT',
    ]);
    assert.equal((await rules(undefined, 'isolate')).length, 3);
    // The crash: the lab's supervisor dies without cleaning anything up; the hosts run on.
    process.kill(lab.state.aws!.supervisor.pid, 'SIGKILL');
    await pause(200);

    const lines: string[] = [];
    await shell.close();
    lab = await labUp({ dataDir, topology: topology(), say: (line) => lines.push(line) });
    assert.ok(
      lines.some((l) => /did not stop cleanly/.test(l)),
      lines.join('\n'),
    );
    assert.deepEqual(await rules(undefined, 'isolate'), []);
    assert.deepEqual(
      (await rules()).sort(),
      HOSTS.map((h) => `kubeha-lab:${LABEL}:${h.name}:source`),
    );
    assert.equal((await listLabRules(OTHER_LABEL)).length, 1, "another lab's rule stays");
    assert.equal((await sh(victim.name, 'echo reachable')).stdout.trim(), 'reachable');
  });

  test("an isolated control plane's etcd member loses the others; the rest keep quorum; rejoin heals it", { timeout: 8 * 60_000 }, async () => {
    const [cp1, cp2, cp3] = HOSTS;
    // A three-member stacked etcd made by hand with the lab's kubeadm (isolationCluster.ts).
    await buildHandMadeCluster({ shell, spec, hosts: HOSTS, eventuallyHealthy });

    await labFault('isolate', [cp3.name], dataDir);
    try {
      // Seen from inside the isolated host: its own member commits nothing any more.
      await eventuallyHealthy(cp3, false);
      // The two others keep a quorum (a new leader when the isolated one led).
      await eventuallyHealthy(cp1, true);
      await eventuallyHealthy(cp2, true);
    } finally {
      await labFault('rejoin', [cp3.name], dataDir);
    }
    await eventuallyHealthy(cp3, true);
  });

  /** `etcdctl endpoint health` on a host's own member, run inside that host, until it says healthy (or not). */
  async function eventuallyHealthy(host: (typeof HOSTS)[number], healthy: boolean): Promise<void> {
    const pki = '/etc/kubernetes/pki/etcd';
    const script = `ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=https://${host.address}:2379 --cacert=${pki}/ca.crt --cert=${pki}/healthcheck-client.crt --key=${pki}/healthcheck-client.key --command-timeout=3s endpoint health`;
    let last: ScriptResult | undefined;
    for (let i = 0; i < 60; i++) {
      last = await asHost(record(host.name), script);
      const ok = last.code === 0 && /is healthy/.test(last.output);
      if (ok === healthy) return;
      await pause(1000);
    }
    assert.fail(`${host.name}'s etcd member did not become ${healthy ? 'healthy' : 'unhealthy'}: ${last?.output}`);
  }

  test('lab down leaves no rule and no cgroup of the lab, and keeps the others', async () => {
    await labFault('isolate', [HOSTS[1].name], dataDir);
    await shell.close();
    const cgroupDir = path.dirname(hostCgroup(LABEL, HOSTS[0].name)!.dir);
    assert.ok(existsSync(cgroupDir), 'the lab has cgroups while it runs');
    const report = await labDown({ dataDir });
    assert.deepEqual(
      report.stoppedHosts.sort(),
      HOSTS.map((h) => h.name),
    );
    assert.equal(report.removedRules, 0, 'each host took its own rules along');
    assert.deepEqual(await rules(), []);
    assert.ok(!existsSync(cgroupDir), `${cgroupDir} is removed`);
    assert.equal((await listLabRules(OTHER_LABEL)).length, 1, "another lab's rule stays");
  });
});
