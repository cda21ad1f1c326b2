/**
 * The lab kubeadm's pre-flight checks on a host kubeha has not prepared, with kubeha's own configs:
 * the container runtime and IPv4 forwarding are errors, swap a warning, busy ports are errors, all
 * with kubeadm's names and texts (test/fixtures/kubeadm/source-errors.json); named checks can be
 * ignored (flag or config), `all` cannot be mixed with names; what prepareHost leaves passes.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { renderInitConfig, renderJoinConfig } from '../../../activities/hosts/kubeadmConfig';
import { alreadySetUp, transientNetwork } from '../../../activities/hosts/kubeadmFailures';
import { kubeadmText } from '../../support/kubeadmTexts';
import { type NamespaceHost, TestLab } from './support/namespaceHost';

const CONFIG = '/etc/kubernetes/kubeha/config.yaml';
const SOCKET = '/var/run/containerd/containerd.sock';
const CRI = `could not connect to the container runtime: failed to create new CRI runtime service: validate service connection: validate CRI v1 runtime API for endpoint "unix://${SOCKET}": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix ${SOCKET}: connect: no such file or directory"`;

describe('lab kubeadm preflight', { timeout: 5 * 60_000 }, () => {
  let lab: TestLab;
  let host: NamespaceHost;

  before(async () => {
    lab = TestLab.create({ discoveryTimeoutSeconds: 2 });
    host = await lab.addHost('pf1', '127.0.31.1', { prepared: false });
  });
  after(async () => {
    await lab?.stop();
  });

  const init = (extra: (c: string) => string = (c) => c) =>
    extra(
      renderInitConfig({
        clusterName: 'west',
        nodeName: 'pf1',
        advertiseAddress: host.address,
        controlPlaneEndpoint: '127.0.31.1:6443',
        kubernetesVersion: '1.37.2',
        podSubnet: '10.244.0.0/16',
        serviceSubnet: '10.96.0.0/12',
        token: 'abcdef.0123456789abcdef',
        certificateKey: 'a'.repeat(64),
      }),
    );
  const preflight = (config: string, ...flags: string[]) => {
    host.writeFile(CONFIG, config);
    return host.kubeadm(['init', 'phase', 'preflight', '--config', CONFIG, ...flags]);
  };
  const joinWorker = (...flags: string[]) => {
    // Discovery to an IPv4 address: kubeadm checks forwarding for a join too.
    host.writeFile(
      CONFIG,
      renderJoinConfig({
        kubernetesVersion: '1.37.2',
        nodeName: 'pf1',
        apiServerEndpoint: '127.0.31.9:6443',
        token: 'abcdef.0123456789abcdef',
        caCertHash: `sha256:${'4'.repeat(64)}`,
      }),
    );
    return host.kubeadm(['join', '--config', CONFIG, ...flags]);
  };

  test('an unprepared host: the runtime and forwarding are fatal, swap is a warning', async () => {
    writeFileSync(`${host.labDir}/swap.json`, JSON.stringify({ areas: [{ name: '/swap.img', type: 'file', size: '2G', used: '0B', prio: -2 }] }));
    for (const result of [await preflight(init()), await joinWorker()]) {
      assert.equal(result.code, 1);
      const expected = [
        kubeadmText('preflight-warning-line', 'Swap', kubeadmText('preflight-swap')),
        `${kubeadmText('preflight-fatal')}\n`,
        kubeadmText('preflight-error-line', 'CRI', CRI),
        kubeadmText('preflight-error-line', 'ContainerRuntimeVersion', CRI),
        kubeadmText('preflight-file-content'),
        kubeadmText('preflight-hint'),
        `error: ${kubeadmText('phase-error', 'preflight')}: preflight checks failed\n`,
      ];
      for (const line of expected) assert.ok(result.stderr.includes(line), `${line}\n---\n${result.stderr}`);
      // Not an earlier run's leftovers: a reset would not fix it, and kubeha does not treat it so.
      assert.equal(alreadySetUp(result.stderr), false);
    }
  });

  test("'all' cannot be mixed with named checks", async () => {
    const result = await preflight(init(), '--ignore-preflight-errors=all,CRI');
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `Error: ${kubeadmText('ignore-all-mixed', 'all,cri')}\n`);
  });

  test('ignored checks (by name in any case, from the flag or the config) become warnings', async () => {
    const fromFlag = await joinWorker('--ignore-preflight-errors=cri,ContainerRuntimeVersion,FileContent--proc-sys-net-ipv4-ip_forward');
    assert.ok(fromFlag.stderr.includes(kubeadmText('preflight-warning-line', 'CRI', CRI)), fromFlag.stderr);
    assert.ok(!fromFlag.stderr.includes('[ERROR'), fromFlag.stderr);
    // Past preflight, discovery finds no API server there.
    assert.ok(fromFlag.stderr.includes(kubeadmText('discovery-identity')), fromFlag.stderr);
    assert.equal(transientNetwork(fromFlag.stderr), true);
    const inConfig = init((c) =>
      c.replace(
        '  criSocket: unix:///var/run/containerd/containerd.sock',
        '  criSocket: unix:///var/run/containerd/containerd.sock\n  ignorePreflightErrors:\n    - CRI\n    - ContainerRuntimeVersion',
      ),
    );
    const fromConfig = await preflight(inConfig, '--ignore-preflight-errors=FileContent--proc-sys-net-ipv4-ip_forward');
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.ok(fromConfig.stderr.includes(kubeadmText('preflight-warning-line', 'ContainerRuntimeVersion', CRI)), fromConfig.stderr);
  });

  test('after what prepareHost leaves (swap off, forwarding on, containerd running) preflight passes; a busy port is fatal', async () => {
    writeFileSync(`${host.labDir}/swap.json`, JSON.stringify({ areas: [] }));
    host.prepare();
    const clean = await preflight(init());
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stderr, '');
    // The scheduler's port, taken on the host's address: kubeha reads it as a host already set up.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(10259, host.address, resolve));
    try {
      const busy = await preflight(init());
      assert.equal(busy.code, 1);
      assert.ok(busy.stderr.includes(kubeadmText('preflight-port', 10259, 10259)), busy.stderr);
      assert.equal(alreadySetUp(busy.stderr), true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
