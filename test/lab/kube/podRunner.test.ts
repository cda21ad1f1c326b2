/**
 * The lab kubelet's CNI install step survives a busy API: when reading the CNI ConfigMap fails (as it
 * does while etcd elects a leader during a control-plane join), the next pass runs the install again,
 * and the node's network becomes ready. A failed read once left a joined control plane NotReady for good.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ApiError, type KubeClient, type KubeObject } from '../../../lab/kube/client';
import { PodRunner } from '../../../lab/kube/kubelet/podRunner';
import { RuntimeNetwork } from '../../../lab/kube/kubelet/network';

const CONFIG = JSON.stringify({ name: 'k8s-pod-network', cniVersion: '0.3.1', plugins: [{ type: 'calico', nodename: '__KUBERNETES_NODE_NAME__' }] });

function calicoPod(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'calico-node-abcde', namespace: 'kube-system', uid: 'uid-1' },
    spec: {
      nodeName: 'cp-3',
      hostNetwork: true,
      volumes: [{ name: 'cni-net-dir', hostPath: { path: '/etc/cni/net.d' } }],
      initContainers: [
        {
          name: 'install-cni',
          env: [
            { name: 'CNI_CONF_NAME', value: '10-calico.conflist' },
            { name: 'CNI_NETWORK_CONFIG', valueFrom: { configMapKeyRef: { name: 'calico-config', key: 'cni_network_config' } } },
          ],
        },
      ],
      containers: [{ name: 'calico-node' }],
    },
  } as KubeObject;
}

/** A client answering the node's pod list and the ConfigMap, failing the first `failures` ConfigMap reads. */
function busyApi(failures: number): { client: KubeClient; statuses: string[] } {
  const pod = calicoPod();
  const statuses: string[] = [];
  let left = failures;
  const client = {
    get: async () => ({ items: [pod] }),
    find: async () => {
      if (left-- > 0) throw new ApiError(500, 'etcdserver: leader changed');
      return { data: { cni_network_config: CONFIG } };
    },
    put: async (_path: string, obj: KubeObject) => {
      const phase = (obj.status as { phase?: string }).phase ?? '';
      statuses.push(phase);
      pod.status = obj.status;
      return obj;
    },
  } as unknown as KubeClient;
  return { client, statuses };
}

describe('lab kubelet CNI install', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const network = (): RuntimeNetwork => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeha-podrunner-'));
    dirs.push(dir);
    return new RuntimeNetwork(path.join(dir, 'lab'), path.join(dir, 'net.d'));
  };

  test('a failed ConfigMap read is retried on the next pass, and the network becomes ready', async () => {
    const net = network();
    const runner = new PodRunner('cp-3', '127.0.0.3', undefined, net, () => undefined);
    const { client, statuses } = busyApi(2);
    for (let pass = 1; pass <= 2; pass++) {
      await assert.rejects(runner.sync(client), /leader changed/, `pass ${pass} fails with the API's error`);
      assert.equal(net.state().ready, false);
    }
    assert.deepEqual(statuses, [], 'the pod is not reported Running before its install ran');
    await runner.sync(client);
    assert.deepEqual(net.state(), { ready: true, config: '10-calico.conflist' });
    assert.deepEqual(statuses, ['Running']);
  });

  test('a kubelet restarted under a Running pod whose configuration is gone writes it again', async () => {
    const net = network();
    const { client } = busyApi(0);
    await new PodRunner('cp-3', '127.0.0.3', undefined, net, () => undefined).sync(client);
    assert.equal(net.state().ready, true);
    const fresh = network();
    // The same Running pod, seen by a new kubelet on a host whose /etc/cni/net.d is empty.
    await new PodRunner('cp-3', '127.0.0.3', undefined, fresh, () => undefined).sync(client);
    assert.equal(fresh.state().ready, true);
  });
});
