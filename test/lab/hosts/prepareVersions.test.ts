/**
 * prepareHost and the versions a host already runs, on a lab host over kubeha's real SSH shell: a host
 * running a NEWER kubelet/kubeadm than the input asks for is refused (kubeha never downgrades a node),
 * and a host that is already a node at the requested version is left alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createHostActivities } from '../../../activities/hosts';
import { FileSecretStore } from '../../../activities/secrets/store';
import type { HostActivities } from '../../../activities/types';
import { failureInfo } from '../../../common/errors';
import type { LabHost } from '../../../lab/hosts';
import { createTestLab, type TestLab } from './helpers';

describe('prepareHost and installed versions on a lab host', () => {
  let lab: TestLab;
  let activities: HostActivities;
  let node: LabHost;
  const versions = async () => (await lab.sh(node, `dpkg-query -W -f='\${Version} ' kubelet kubeadm kubectl`)).stdout.trim();

  before(async () => {
    lab = await createTestLab('prepare-versions');
    node = await lab.start('prepv-cp', '127.0.10.241');
    activities = createHostActivities({ shell: lab.shell, secrets: new FileSecretStore(path.join(lab.labDir, 'secrets')) });
    await activities.prepareHost({ host: lab.spec(node), kubernetesVersion: '1.37.3' });
  });
  after(async () => {
    await lab.close();
  });

  test('asking for an older version than the host runs is refused, naming the versions, and nothing changes', async () => {
    assert.equal(await versions(), '1.37.3-1.1 1.37.3-1.1 1.37.3-1.1');
    let failure: unknown;
    try {
      await activities.prepareHost({ host: lab.spec(node), kubernetesVersion: '1.37.1' });
    } catch (err) {
      failure = err;
    }
    assert.ok(failure instanceof ApplicationFailure, String(failure));
    assert.equal(failure.type, 'Conflict');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /kubelet 1\.37\.3 is installed, newer than 1\.37\.1: kubeha does not downgrade a node/);
    assert.match(failureInfo(failure)?.hint ?? '', /upgrades \(and downgrades\) are a separate operation/);
    assert.equal(await versions(), '1.37.3-1.1 1.37.3-1.1 1.37.3-1.1', 'the packages were not touched');
  });

  test('a newer version than installed is still prepared (the host is not a node yet)', async () => {
    const result = await activities.prepareHost({ host: lab.spec(node), kubernetesVersion: '1.37.4' });
    assert.deepEqual(result.changed, ['kube-packages']);
    assert.equal(await versions(), '1.37.4-1.1 1.37.4-1.1 1.37.4-1.1');
  });

  test('a host that is a node at the requested version is left alone', async () => {
    await lab.sh(node, 'mkdir -p /etc/kubernetes && printf "apiVersion: v1\\nkind: Config\\n" > /etc/kubernetes/kubelet.conf');
    // A setting drifted: a preparation would rewrite it (and restart containerd on a serving node).
    await lab.sh(node, "sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' /etc/containerd/config.toml");
    const result = await activities.prepareHost({ host: lab.spec(node), kubernetesVersion: '1.37.4' });
    assert.equal(result.joined, true);
    assert.deepEqual(result.changed, []);
    assert.equal((await lab.sh(node, 'grep -c "SystemdCgroup = false" /etc/containerd/config.toml')).stdout.trim(), '1', 'nothing was rewritten');

    // At another version the same node is not "already joined": the downgrade rule answers.
    await assert.rejects(activities.prepareHost({ host: lab.spec(node), kubernetesVersion: '1.37.2' }), /newer than 1\.37\.2/);
  });
});
