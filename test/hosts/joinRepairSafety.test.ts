/**
 * A join repair never wipes what serves: the member that is the host is found by its peer URL (a
 * namesake on another machine is refused, untouched), only a learner, unstarted or unhealthy member is
 * removed, and only while the others keep quorum. And a host without kubectl is not mistaken for a
 * missing Node.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { createHostActivities } from '../../activities/hosts';
import { nodeState } from '../../activities/hosts/cluster';
import { HostRunner } from '../../activities/hosts/context';
import type { CommandResult, RemoteShell } from '../../activities/ssh/types';
import type { HostActivities, JoinCredentials } from '../../activities/types';
import type { HostSpec } from '../../common/inputs/shared';
import { FakeHostShell, makeCaPem, MemorySecretStore } from './fakeHostShell';

const ssh = { user: 'root', port: 22, privateKey: { file: '/dev/null' }, trustOnFirstUse: true, connectTimeoutSeconds: 5 };
const host = (name: string, address: string): HostSpec => ({ name, address, role: 'control-plane', ssh });
const cpA = host('cp-a', '10.30.1.11');
const cpB = host('cp-b', '10.30.2.12');
const cpC = host('cp-c', '10.30.3.13');
const T0 = new Date('2025-02-03T10:00:00Z');

let caPem: string;
before(() => {
  caPem = makeCaPem();
});

const joinInput = (h: HostSpec, join: JoinCredentials) => ({
  clusterName: 'lab',
  kubeconfigSecret: 'clusters/lab/admin-kubeconfig',
  host: h,
  repairVia: cpA,
  join,
  controlPlaneEndpoint: 'lb.example:6443',
  controlPlane: true,
});

async function cluster(joined: HostSpec[]): Promise<{ shell: FakeHostShell; hosts: HostActivities; join: JoinCredentials }> {
  const shell = new FakeHostShell(caPem, () => T0);
  const hosts = createHostActivities({ shell, secrets: new MemorySecretStore(), now: () => T0 });
  const init = await hosts.kubeadmInit({
    clusterName: 'lab',
    host: cpA,
    controlPlaneEndpoint: 'lb.example:6443',
    kubernetesVersion: '1.31.2',
    podCidr: '192.168.0.0/16',
    serviceCidr: '10.96.0.0/12',
  });
  for (const h of joined) await hosts.kubeadmJoin(joinInput(h, init.join));
  return { shell, hosts, join: init.join };
}

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

describe('join repair safety', () => {
  test('a healthy voter whose Node went missing is not removed: Conflict, nothing wiped', async () => {
    const { shell, hosts, join } = await cluster([cpB]);
    shell.nodes.delete('cp-b');
    const members = shell.members.length;
    const err = await refusal(hosts.kubeadmJoin(joinInput(cpB, join)));
    assert.equal(err.type, 'Conflict');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /is a started, healthy voter: kubeha does not wipe it/);
    assert.equal(shell.members.length, members, 'the member is still there');
    assert.equal(shell.count(/member remove|kubeadm reset/), 0);
  });

  test('an unhealthy stale member is removed and the host joins again, when the others keep quorum', async () => {
    const { shell, hosts, join } = await cluster([cpB, cpC]);
    shell.nodes.delete('cp-c');
    shell.unhealthyMembers.add('cp-c');
    const result = await hosts.kubeadmJoin(joinInput(cpC, join));
    assert.deepEqual([result.alreadyJoined, result.repaired], [false, true]);
    assert.equal(shell.count(/member remove/), 1);
  });

  test('an unhealthy member whose removal would leave the rest without quorum is kept', async () => {
    const { shell, hosts, join } = await cluster([cpB, cpC]);
    shell.nodes.delete('cp-b');
    shell.unhealthyMembers.add('cp-b');
    shell.unhealthyMembers.add('cp-c');
    const err = await refusal(hosts.kubeadmJoin(joinInput(cpB, join)));
    assert.equal(err.type, 'Conflict');
    assert.match(err.message, /would leave the other voters without quorum/);
    assert.equal(shell.count(/member remove|kubeadm reset/), 0);
  });

  test("a member with the host's name on another machine is refused by name and peer URL, never removed", async () => {
    const { shell, hosts, join } = await cluster([]);
    shell.addMember({ name: 'cp-b', peerUrls: ['https://10.99.9.9:2380'], clientUrls: ['https://10.99.9.9:2379'], isLearner: false });
    const err = await refusal(hosts.kubeadmJoin(joinInput(cpB, join)));
    assert.equal(err.type, 'Conflict');
    assert.match(err.message, /is named cp-b but its peer URL is https:\/\/10\.99\.9\.9:2380, not 10\.30\.2\.12's/);
    assert.equal(shell.count(/member remove|kubeadm reset|kubeadm join/), 0);
  });

  test('a learner left by a half-done join is still repaired', async () => {
    const { shell, hosts, join } = await cluster([]);
    shell.joinLeavesLearner.set('cp-b', 'join-etcd-learner-stuck.txt');
    await assert.rejects(hosts.kubeadmJoin(joinInput(cpB, join)));
    const result = await hosts.kubeadmJoin(joinInput(cpB, join));
    assert.deepEqual([result.alreadyJoined, result.repaired], [false, true]);
  });
});

test('"kubectl: not found" (no kubectl on the host) is not a missing Node', async () => {
  const answer = (stdout: string, stderr: string, exitCode: number): CommandResult => ({ exitCode, stdout, stderr, durationMs: 1 });
  const shell: RemoteShell = {
    run: async (_host, cmd) => (cmd.command.startsWith('test ') ? answer('', '', 0) : answer('', 'sh: 1: kubectl: not found\n', 127)),
    runChecked: async () => answer('', '', 0),
    writeFile: async () => undefined,
    readFile: async () => undefined,
    close: async () => undefined,
  };
  const run = new HostRunner({ shell, secrets: new MemorySecretStore() });
  assert.equal(await nodeState(run, cpA, 'cp-b'), 'unreachable');
  const missing: RemoteShell = {
    ...shell,
    run: async (_h, cmd) => (cmd.command.startsWith('test ') ? answer('', '', 0) : answer('', 'Error from server (NotFound): nodes "cp-b" not found\n', 1)),
  };
  assert.equal(await nodeState(new HostRunner({ shell: missing, secrets: new MemorySecretStore() }), cpA, 'cp-b'), 'missing');
});
