/**
 * The isolation test's etcd cluster (isolation.test.ts): three control planes made by hand with the
 * lab's kubeadm over SSH (init, then two joins, each after every member is healthy), on hosts that were
 * not prepared (no container runtime: its preflight checks are ignored).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { renderInitConfig, renderJoinConfig } from '../../../activities/hosts/kubeadmConfig';
import { parseInitOutput } from '../../../activities/hosts/kubeadmOutput';
import type { RemoteShell } from '../../../activities/ssh/types';
import type { HostSpec } from '../../../common/inputs/shared';

const KUBEADM_CONFIG = '/etc/kubernetes/kubeha/config.yaml';

/** What the cluster is built with: the test's shell, its host specs, and its etcd health wait. */
export interface HandMadeClusterOptions<H extends { name: string; address: string }> {
  shell: RemoteShell;
  spec: (name: string) => HostSpec;
  /** The three control planes, the first initialised. */
  hosts: readonly H[];
  eventuallyHealthy: (host: H, healthy: boolean) => Promise<void>;
}

/** kubeadm init on the first host, then a control-plane join of each other host; every member healthy at the end. */
export async function buildHandMadeCluster<H extends { name: string; address: string }>({
  shell,
  spec,
  hosts,
  eventuallyHealthy,
}: HandMadeClusterOptions<H>): Promise<void> {
  const [cp1, cp2, cp3] = hosts;
  const endpoint = `${cp1.address}:6443`;
  const token = 'isoabc.0123456789abcdef';
  const certificateKey = randomBytes(32).toString('hex');
  const runKubeadm = async (host: string, config: string, args: string) => {
    await shell.run(spec(host), {
      command: `mkdir -p /etc/kubernetes/kubeha && cat > ${KUBEADM_CONFIG} && chmod 600 ${KUBEADM_CONFIG}`,
      stdin: config,
      timeoutMs: 60_000,
    });
    // These hosts are not prepared: no kubelet package (kubeadm runs the lab kubelet itself) and no
    // container runtime (its preflight checks are ignored); forwarding is set as prepareHost sets it.
    const ignore = '--ignore-preflight-errors=CRI,ContainerRuntimeVersion';
    return shell.run(spec(host), {
      command: `sysctl -qw net.ipv4.ip_forward=1 && KUBEHA_LAB_KUBELET=direct kubeadm ${args} --config ${KUBEADM_CONFIG} ${ignore}`,
      timeoutMs: 5 * 60_000,
    });
  };
  const kubeadm = async (host: string, config: string, args: string) => {
    const result = await runKubeadm(host, config, args);
    assert.equal(result.exitCode, 0, `${host}: kubeadm ${args}\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  };
  const init = await kubeadm(
    cp1.name,
    renderInitConfig({
      clusterName: 'isowest',
      nodeName: cp1.name,
      advertiseAddress: cp1.address,
      controlPlaneEndpoint: endpoint,
      kubernetesVersion: '1.37.2',
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
      token,
      certificateKey,
    }),
    'init --upload-certs',
  );
  const { caCertHash } = parseInitOutput(init);
  const members: H[] = [cp1];
  for (const host of [cp2, cp3]) {
    const config = renderJoinConfig({
      kubernetesVersion: 'v1.37.2',
      nodeName: host.name,
      apiServerEndpoint: endpoint,
      token,
      caCertHash,
      controlPlane: { certificateKey, advertiseAddress: host.address },
    });
    // etcd refuses a member add ("etcdserver: unhealthy cluster") until the last member added has
    // been connected for a few seconds; kubeha waits for the voter's health between joins and
    // repairs a refused join, and so does this hand-made cluster.
    for (let attempt = 1; ; attempt += 1) {
      for (const member of members) await eventuallyHealthy(member, true);
      const result = await runKubeadm(host.name, config, 'join');
      if (result.exitCode === 0) break;
      assert.ok(attempt < 4 && /unhealthy cluster/.test(result.stdout + result.stderr), `${host.name}: kubeadm join\n${result.stdout}\n${result.stderr}`);
      assert.equal((await shell.run(spec(host.name), { command: 'kubeadm reset -f', timeoutMs: 60_000 })).exitCode, 0, `${host.name}: kubeadm reset -f`);
    }
    members.push(host);
  }
  for (const host of hosts) await eventuallyHealthy(host, true);
}
