/**
 * The lab topology file: the default is the README's (west 3 + 1 spare + 2 workers on 127.0.10.N,
 * east 1 + 1 on 127.0.20.N), a bad file is refused with every bad field named, and the input the lab
 * writes for a cluster is one kubeha's own schema accepts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapStackedEtcdInputSchema } from '../../../common/inputs/bootstrapStackedEtcd';
import { bootstrapInput } from '../../../lab/orchestrator/inputs';
import { defaultTopologyInput, LAB_KUBERNETES_VERSION, parseTopology } from '../../../lab/orchestrator';

describe('lab topology', () => {
  test('the default topology is the one lab/README.md describes', () => {
    const topology = parseTopology(defaultTopologyInput());
    const roles = (name: string) => topology.clusters.find((c) => c.name === name)!.hosts.map((h) => h.role);
    assert.deepEqual(roles('west'), ['control-plane', 'control-plane', 'control-plane', 'spare-control-plane', 'worker', 'worker']);
    assert.deepEqual(roles('east'), ['control-plane', 'worker']);
    assert.deepEqual(
      topology.clusters[0].hosts.map((h) => h.address),
      [1, 2, 3, 4, 5, 6].map((n) => `127.0.10.${n}`),
    );
    assert.deepEqual(
      topology.clusters[1].hosts.map((h) => h.address),
      ['127.0.20.1', '127.0.20.2'],
    );
    assert.equal(topology.sshPort, 22);
    assert.equal(topology.settings.aptLatestPatch, 5);
  });

  test('a bad topology names every bad field', () => {
    const bad = {
      clusters: [
        {
          name: 'west',
          region: 'us-west-2',
          vpcCidr: '10.10.0.0/16',
          hosts: [
            { name: 'a', address: '10.0.0.1', role: 'worker' },
            { name: 'a', address: '127.0.0.2', role: 'worker' },
          ],
        },
      ],
    };
    assert.throws(
      () => parseTopology(bad, 'bad.json'),
      (err: Error) => {
        assert.match(err.message, /bad\.json is not a valid lab topology/);
        assert.match(err.message, /clusters\.0\.hosts\.0\.address: must be a loopback address/);
        assert.match(err.message, /clusters\.0\.hosts\.1\.name: host name a is used twice/);
        assert.match(err.message, /needs a control-plane host/);
        return true;
      },
    );
  });

  test("a cluster's input pins the host keys and points at the lab's AWS, and kubeha's schema accepts it", () => {
    const input = bootstrapInput({
      cluster: 'west',
      hosts: [
        { name: 'west-cp-1', cluster: 'west', role: 'control-plane', address: '127.0.10.1', port: 22, hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` },
        { name: 'west-worker-1', cluster: 'west', role: 'worker', address: '127.0.10.5', port: 22, hostKeyFingerprint: `SHA256:${'B'.repeat(43)}` },
      ],
      network: { cluster: 'west', region: 'us-west-2', vpcId: 'vpc-0abc', subnetIds: ['subnet-0a', 'subnet-0b'] },
      awsEndpoint: 'http://127.0.0.1:4566',
      clientKey: '/lab/ssh/id_ed25519',
      cniManifest: '/lab/cni/calico-like.yaml',
    });
    const parsed = bootstrapStackedEtcdInputSchema.parse(input);
    assert.equal(parsed.kubernetesVersion, LAB_KUBERNETES_VERSION);
    assert.equal(parsed.aws.endpoint, 'http://127.0.0.1:4566');
    assert.deepEqual(
      parsed.hosts.map((h) => [h.ssh.hostKeyFingerprint?.slice(7, 8), h.ssh.trustOnFirstUse, h.ssh.privateKey]),
      [
        ['A', false, { file: '/lab/ssh/id_ed25519' }],
        ['B', false, { file: '/lab/ssh/id_ed25519' }],
      ],
    );
    assert.deepEqual(parsed.cni.file, '/lab/cni/calico-like.yaml');
    // No host: kubeha would refuse the input, so the lab refuses to write it.
    assert.throws(() =>
      bootstrapInput({
        cluster: 'west',
        hosts: [],
        network: { cluster: 'west', region: 'us-west-2', vpcId: 'vpc-0abc', subnetIds: ['subnet-0a'] },
        awsEndpoint: 'http://127.0.0.1:1',
        clientKey: '/k',
        cniManifest: '/c',
      }),
    );
  });
});
