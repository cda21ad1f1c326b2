/**
 * kubeha's real prepareHost activity, over kubeha's real SSH shell, against fresh lab hosts:
 * the first run changes every item (swap excepted: lab hosts have none), the second finds all
 * done, and a dry run changes nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHostActivities } from '../../../activities/hosts';
import { renderInitConfig } from '../../../activities/hosts/kubeadmConfig';
import { expectedItems } from '../../../activities/hosts/prepareScript';
import { FileSecretStore } from '../../../activities/secrets/store';
import type { HostActivities } from '../../../activities/types';
import type { LabHost } from '../../../lab/hosts';
import { createTestLab, type TestLab } from './helpers';

const VERSION = '1.37.2';

describe('prepareHost on lab hosts', () => {
  let lab: TestLab;
  let activities: HostActivities;
  let controlPlane: LabHost;
  let worker: LabHost;

  before(async () => {
    lab = await createTestLab('prepare');
    controlPlane = await lab.start('prep-cp', '127.0.10.231');
    worker = await lab.start('prep-worker', '127.0.10.232');
    activities = createHostActivities({ shell: lab.shell, secrets: new FileSecretStore(path.join(lab.labDir, 'secrets')) });
  });
  after(async () => {
    await lab.close();
  });

  /** kubeadm's preflight for kubeha's init config of the host (the lab's kubeadm, its host checks). */
  async function preflight(host: LabHost) {
    const config = renderInitConfig({
      clusterName: 'prep',
      nodeName: host.name,
      advertiseAddress: host.address,
      controlPlaneEndpoint: `${host.address}:6443`,
      kubernetesVersion: VERSION,
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
      token: 'abcdef.0123456789abcdef',
      certificateKey: 'a'.repeat(64),
    });
    return lab.sh(
      host,
      'mkdir -p /etc/kubernetes/kubeha && cat > /etc/kubernetes/kubeha/preflight.yaml && kubeadm init phase preflight --config /etc/kubernetes/kubeha/preflight.yaml',
      config,
    );
  }

  test("kubeadm's preflight fails on the fresh host: no container runtime, no IPv4 forwarding", async () => {
    const result = await preflight(controlPlane);
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /\[ERROR CRI\]: could not connect to the container runtime/);
    assert.match(result.stderr, /\[ERROR FileContent--proc-sys-net-ipv4-ip_forward\]: \/proc\/sys\/net\/ipv4\/ip_forward contents are not set to 1/);
  });

  test('a dry run on a fresh host reports what would change and changes nothing', async () => {
    const before = await lab.sh(
      controlPlane,
      'ls /etc/apt/sources.list.d /etc/apt/keyrings /etc/containerd; cat /etc/lab-none 2>/dev/null; dpkg-query -W containerd',
    );
    const result = await activities.prepareHost({ host: lab.spec(controlPlane), kubernetesVersion: VERSION, dryRun: true });
    assert.deepEqual(result.alreadyPrepared, ['swap']);
    assert.deepEqual(
      result.changed,
      expectedItems(true).filter((item) => item !== 'swap'),
    );
    const after = await lab.sh(
      controlPlane,
      'ls /etc/apt/sources.list.d /etc/apt/keyrings /etc/containerd; cat /etc/lab-none 2>/dev/null; dpkg-query -W containerd',
    );
    assert.deepEqual(after, { ...after, stdout: before.stdout, exitCode: before.exitCode });
  });

  test('the first run changes every item; the verification dry run inside it finds nothing left', async () => {
    const started = Date.now();
    const result = await activities.prepareHost({ host: lab.spec(controlPlane), kubernetesVersion: VERSION });
    const ms = Date.now() - started;
    assert.deepEqual(
      result.changed,
      expectedItems(true).filter((item) => item !== 'swap'),
    );
    assert.deepEqual(result.alreadyPrepared, ['swap']);
    assert.ok(ms < 60_000, `prepare took ${ms} ms`);
    const state = await lab.sh(
      controlPlane,
      [
        `dpkg-query -W -f='\${Version} ' kubelet kubeadm kubectl`,
        'apt-mark showhold | tr "\\n" " "',
        'systemctl is-enabled kubelet',
        'sysctl -n net.ipv4.ip_forward',
        'cat /etc/modules-load.d/br_netfilter.conf',
        'grep -c "SystemdCgroup = true" /etc/containerd/config.toml',
        'cat /etc/apt/sources.list.d/kubernetes.list',
      ].join('; echo; '),
    );
    assert.equal(
      state.stdout,
      '1.37.2-1.1 1.37.2-1.1 1.37.2-1.1 \nkubeadm kubectl kubelet \nenabled\n\n1\n\nbr_netfilter\n\n1\n\ndeb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.37/deb/ /\n',
    );
    assert.match(readFileSync(path.join(controlPlane.rootDir, 'etc/sysctl.d/99-kubernetes.conf'), 'utf8'), /^net\.ipv4\.ip_forward = 1$/m);
  });

  test("kubeadm's preflight passes on the prepared host, without a warning", async () => {
    const result = await preflight(controlPlane);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /\[(ERROR|WARNING) /);
  });

  test('a second run finds the host prepared', async () => {
    const result = await activities.prepareHost({ host: lab.spec(controlPlane), kubernetesVersion: VERSION });
    assert.deepEqual(result.changed, []);
    assert.deepEqual(result.alreadyPrepared, expectedItems(true));
  });

  test('a worker gets no etcd client; the script reached the host over stdin only', async () => {
    const result = await activities.prepareHost({ host: lab.spec(worker, 'worker'), kubernetesVersion: VERSION });
    assert.deepEqual(
      result.changed,
      expectedItems(false).filter((item) => item !== 'swap'),
    );
    assert.equal((await lab.sh(worker, 'dpkg-query -W etcd-client')).exitCode, 1);
    const log = readFileSync(path.join(worker.labDir, 'commands.log'), 'utf8');
    assert.ok(log.includes('sh -s'));
    assert.ok(!log.includes('check_br_netfilter'), 'the script body never appears on a command line');
  });
});
