/**
 * The lab kubelet and controller can fail as a real cluster does, and kubeha's Kubernetes activities
 * (real ones, against the lab's real kube-apiserver) report it: a Node stays NotReady until a CNI's
 * pod runs on it, a crash-looping CNI fails the rollout naming the pod and the fix, a Deployment
 * that never becomes ready fails at its progress deadline, and a node whose runtime network breaks
 * goes NotReady with the runtime's reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createKubernetesActivities } from '../../../activities/kubernetes';
import { renderInitConfig, renderJoinConfig } from '../../../activities/hosts/kubeadmConfig';
import { parseInitOutput } from '../../../activities/hosts/kubeadmOutput';
import { FileSecretStore } from '../../../activities/secrets/store';
import type { KubernetesActivities, WorkloadRef } from '../../../activities/types';
import { updateWorkloadRules, workloadRulesFile } from '../../../lab/kube/kubelet/labRules';
import { networkBrokenMarker } from '../../../lab/kube/kubelet/network';
import { projectRoot } from '../../../lib/paths';
import type { KubeObject } from '../../../lab/kube/client';
import { adminOf, eventually, nodeReady } from './support/cluster';
import { type NamespaceHost, TestLab } from './support/namespaceHost';

const ENDPOINT = '127.0.31.1:6443';
const CONFIG = '/etc/kubernetes/kubeha/config.yaml';
const ADMIN = 'clusters/net/admin-kubeconfig';
const CNI_MANIFEST = path.join(projectRoot, 'lab', 'cni', 'calico-like.yaml');

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected a kubeha failure, got ${String(err)}`);
    return err;
  }
  throw new Error('expected the activity to fail, and it succeeded');
}

function readyCondition(node: KubeObject | undefined): { status?: string; message?: string } | undefined {
  return ((node?.status as { conditions?: { type: string; status: string; message?: string }[] } | undefined)?.conditions ?? []).find(
    (c) => c.type === 'Ready',
  );
}

describe('lab nodes and rollouts that can fail, read by kubeha', { timeout: 10 * 60_000 }, () => {
  let lab: TestLab;
  let cp1: NamespaceHost;
  let worker: NamespaceHost;
  let secretsDir: string;
  let kube: KubernetesActivities;
  let cniWorkloads: WorkloadRef[] = [];
  let initOut = '';
  const rules = () => workloadRulesFile(lab.statePath);

  before(async () => {
    lab = TestLab.create();
    cp1 = await lab.addHost('cp1', '127.0.31.1');
    worker = await lab.addHost('worker1', '127.0.31.2');
    cp1.writeFile(
      CONFIG,
      renderInitConfig({
        clusterName: 'net',
        nodeName: 'cp1',
        advertiseAddress: cp1.address,
        controlPlaneEndpoint: ENDPOINT,
        kubernetesVersion: '1.37.2',
        podSubnet: '10.244.0.0/16',
        serviceSubnet: '10.96.0.0/12',
        token: 'netnet.0123456789abcdef',
        certificateKey: randomBytes(32).toString('hex'),
      }),
    );
    const init = await cp1.kubeadm(['init', '--config', CONFIG]);
    assert.equal(init.code, 0, `${init.stdout}\n${init.stderr}`);
    initOut = init.stdout;
    secretsDir = mkdtempSync(path.join(os.tmpdir(), 'kubeha-net-secrets-'));
    const secrets = new FileSecretStore(secretsDir);
    await secrets.put(ADMIN, cp1.readFile('/etc/kubernetes/admin.conf') ?? '');
    kube = createKubernetesActivities({ secrets, pollIntervalMs: 500, requestTimeoutMs: 5000 });
  });

  after(async () => {
    await lab?.stop();
    if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
  });

  test('without a CNI the Node is NotReady in the runtime’s words and tainted; waitNodeReady says the network is missing', async () => {
    const node = await eventually('Node cp1 registered', async () => (await nodeReady(adminOf(cp1), 'cp1')).node);
    assert.equal(readyCondition(node)?.status, 'False');
    assert.match(readyCondition(node)?.message ?? '', /NetworkReady=false reason:NetworkPluginNotReady/);
    await eventually('the not-ready taint', async () => {
      const taints = ((await adminOf(cp1).get('/api/v1/nodes/cp1')).spec as { taints?: { key: string }[] }).taints ?? [];
      return taints.some((t) => t.key === 'node.kubernetes.io/not-ready') ? true : undefined;
    });
    const failure = await failureOf(kube.waitNodeReady({ kubeconfigSecret: ADMIN, nodeName: 'cp1', timeoutSeconds: 3 }));
    assert.equal(failure.type, 'DeadlineExceeded');
    assert.match(failure.message, /node cp1 not Ready \(NetworkPluginNotReady\)/);
    assert.match(String((failure.details?.[0] as { hint?: string } | undefined)?.hint ?? failure.details), /no network/);
  });

  test('a CNI that crash-loops fails the rollout, naming the pod, its container and the next move', async () => {
    updateWorkloadRules(rules(), (r) => ({ ...r, cniCrash: true }));
    const applied = await kube.applyManifest({ kubeconfigSecret: ADMIN, source: { file: CNI_MANIFEST } });
    cniWorkloads = applied.workloads;
    assert.deepEqual(cniWorkloads.map((w) => `${w.kind}/${w.name}`).sort(), ['DaemonSet/calico-node', 'Deployment/calico-kube-controllers']);
    const failure = await failureOf(kube.waitRollout({ kubeconfigSecret: ADMIN, workloads: cniWorkloads, timeoutSeconds: 25 }));
    const hint = JSON.stringify(failure.details);
    process.stderr.write(`install-cni with a broken CNI: ${failure.message}\nhint: ${hint}\n`);
    assert.equal(failure.type, 'DeadlineExceeded');
    assert.match(failure.message, /pod kube-system\/calico-node-\w+ on cp1: Init:CrashLoopBackOff \(install-cni restarted [1-9]\d* times\)/);
    assert.match(
      failure.message,
      /calico-kube-controllers-\w+-\w+: Pending, 0\/1 nodes are available: .*untolerated taint \{node\.kubernetes\.io\/not-ready: \}/,
    );
    assert.match(hint, /logs calico-node-\w+ -c install-cni --previous/);
    assert.equal(readyCondition((await nodeReady(adminOf(cp1), 'cp1')).node)?.status, 'False', 'no network configuration was written');
    assert.equal(cp1.readFile('/etc/cni/net.d/10-calico.conflist'), undefined);
  });

  test('with the CNI fixed its pod installs the network configuration: the Node turns Ready and the rollout finishes', async () => {
    updateWorkloadRules(rules(), (r) => ({ ...r, cniCrash: false }));
    const status = await kube.waitNodeReady({ kubeconfigSecret: ADMIN, nodeName: 'cp1', timeoutSeconds: 60 });
    assert.equal(status.ready, true);
    const conflist = JSON.parse(cp1.readFile('/etc/cni/net.d/10-calico.conflist') ?? '{}') as {
      name?: string;
      plugins?: { nodename?: string; mtu?: number }[];
    };
    assert.equal(conflist.name, 'k8s-pod-network');
    assert.equal(conflist.plugins?.[0].nodename, 'cp1', 'the install step fills in the node name from the ConfigMap template');
    // The worker has not joined: one DaemonSet pod, and the controllers' Deployment placed on cp1 once untainted.
    await kube.waitRollout({ kubeconfigSecret: ADMIN, workloads: cniWorkloads, timeoutSeconds: 60 });
    const ds = await adminOf(cp1).get('/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node');
    assert.equal((ds.status as { numberReady?: number }).numberReady, 1);
  });

  test('a worker that joins is NotReady until the DaemonSet’s pod runs on it, then Ready', async () => {
    const parsed = parseInitOutput(initOut);
    worker.writeFile(
      CONFIG,
      renderJoinConfig({
        kubernetesVersion: 'v1.37.2',
        nodeName: 'worker1',
        apiServerEndpoint: ENDPOINT,
        token: parsed.worker.token ?? '',
        caCertHash: parsed.caCertHash,
      }),
    );
    const joined = await worker.kubeadm(['join', '--config', CONFIG]);
    assert.equal(joined.code, 0, `${joined.stdout}\n${joined.stderr}`);
    const status = await kube.waitNodeReady({ kubeconfigSecret: ADMIN, nodeName: 'worker1', timeoutSeconds: 90 });
    assert.equal(status.ready, true);
    assert.match(worker.readFile('/etc/cni/net.d/10-calico.conflist') ?? '', /"nodename": "worker1"/);
    await kube.waitRollout({ kubeconfigSecret: ADMIN, workloads: cniWorkloads, timeoutSeconds: 60 });
    const pods = await adminOf(cp1).get<{ items: { spec: { nodeName: string } }[] }>('/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dcalico-node');
    assert.deepEqual(pods.items.map((p) => p.spec.nodeName).sort(), ['cp1', 'worker1']);
  });

  test('a broken runtime network on one host turns its Node NotReady with the runtime’s reason, and back', async () => {
    const marker = networkBrokenMarker(worker.labDir);
    writeFileSync(marker, 'test\n');
    try {
      await eventually('worker1 NotReady', async () =>
        readyCondition((await nodeReady(adminOf(cp1), 'worker1')).node)?.status === 'False' ? true : undefined,
      );
      const failure = await failureOf(kube.waitNodeReady({ kubeconfigSecret: ADMIN, nodeName: 'worker1', timeoutSeconds: 1 }));
      assert.match(failure.message, /worker1 not Ready \(NetworkPluginNotReady\)/);
    } finally {
      rmSync(marker, { force: true });
    }
    assert.equal((await kube.waitNodeReady({ kubeconfigSecret: ADMIN, nodeName: 'worker1', timeoutSeconds: 30 })).ready, true);
  });

  test('Deployments roll out when their pods run, and one that never becomes ready fails at its progress deadline', async () => {
    const deployment = (name: string, extra: Record<string, unknown> = {}) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ${name}, namespace: kubeha-net }\nspec:\n  replicas: 2\n  ${Object.entries(extra)
        .map(([k, v]) => `${k}: ${v}`)
        .join(
          '\n  ',
        )}\n  selector: { matchLabels: { app: ${name} } }\n  template:\n    metadata: { labels: { app: ${name} } }\n    spec: { containers: [ { name: ${name}, image: registry.invalid/${name}:1 } ] }\n`;
    updateWorkloadRules(rules(), (r) => ({ ...r, neverReady: ['kubeha-net/stuck'] }));
    const manifest = `apiVersion: v1\nkind: Namespace\nmetadata: { name: kubeha-net }\n---\n${deployment('web')}---\n${deployment('stuck', { progressDeadlineSeconds: 5 })}`;
    const { workloads } = await kube.applyManifest({ kubeconfigSecret: ADMIN, source: { inline: manifest } });
    await kube.waitRollout({ kubeconfigSecret: ADMIN, workloads: workloads.filter((w) => w.name === 'web'), timeoutSeconds: 60 });
    const pods = await adminOf(cp1).get<{ items: { spec: { nodeName: string }; status: { phase: string } }[] }>(
      '/api/v1/namespaces/kubeha-net/pods?labelSelector=app%3Dweb',
    );
    assert.deepEqual(
      pods.items.map((p) => [p.spec.nodeName, p.status.phase]),
      [
        ['worker1', 'Running'],
        ['worker1', 'Running'],
      ],
      'the control-plane taint keeps them off cp1',
    );
    const started = Date.now();
    const failure = await failureOf(kube.waitRollout({ kubeconfigSecret: ADMIN, workloads: workloads.filter((w) => w.name === 'stuck'), timeoutSeconds: 120 }));
    assert.match(failure.message, /Deployment kubeha-net\/stuck exceeded its progress deadline: ReplicaSet "stuck-\w+" has timed out progressing/);
    assert.ok(Date.now() - started < 60_000, 'the deadline, not the wait, ended it');
  });
});
