/**
 * Failures the real kubeadm (built by lab/build/build-kube.sh) can produce on this machine, next to
 * the lab's kubeadm with the same config: a container runtime socket nobody serves (preflight) and
 * a discovery endpoint where nothing listens. Both must print the same lines, and kubeha must
 * classify the real output as it does the lab's.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { renderInitConfig, renderJoinConfig } from '../../../activities/hosts/kubeadmConfig';
import { alreadySetUp, halfDoneEtcdJoin, rejectedCredential, transientNetwork } from '../../../activities/hosts/kubeadmFailures';
import { projectRoot } from '../../../lib/paths';

const buildScript = path.join(projectRoot, 'lab', 'build', 'build-kube.sh');
const labKubeadm = path.join(projectRoot, 'lab', 'tools', 'bin', 'kubeadm');
let realKubeadm: string;
let work: string;

before(() => {
  execFileSync('bash', [buildScript, 'kubeadm'], { stdio: 'inherit' });
  realKubeadm = path.join(execFileSync('bash', [buildScript], { env: { ...process.env, KUBE_PRINT_BIN_DIR: '1' }, encoding: 'utf8' }).trim(), 'kubeadm');
  work = mkdtempSync(path.join(tmpdir(), 'kubeha-kubeadm-failures-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A rendered config with one document changed (by kind). */
function edit(config: string, kind: string, change: (doc: Record<string, unknown>) => void): string {
  return parseAllDocuments(config)
    .map((d) => {
      const doc = d.toJS() as Record<string, unknown>;
      if (doc.kind === kind) change(doc);
      return stringify(doc, { lineWidth: 0 });
    })
    .join('---\n');
}

/** Runs a kubeadm with its /etc/kubernetes replaced by an empty directory (nothing of the machine is read or written). */
function run(binary: string, args: string[], env: NodeJS.ProcessEnv = process.env): { code: number; stdout: string; stderr: string } {
  const etc = mkdtempSync(path.join(work, 'etc-kubernetes-'));
  mkdirSync('/etc/kubernetes', { recursive: true });
  const script = `mount --bind ${etc} /etc/kubernetes && exec "$@"`;
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', binary, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The environment of a lab host with nothing set up (its own empty lab folder). */
function labHostEnv(): NodeJS.ProcessEnv {
  return { ...process.env, KUBEHA_LAB_DIR: mkdtempSync(path.join(work, 'lab-host-')), KUBEHA_LAB_HOST: 'node-1' };
}

describe('the real kubeadm and the lab kubeadm fail alike', { timeout: 300_000 }, () => {
  test('preflight: a container runtime socket nobody serves gives the same CRI and ContainerRuntimeVersion errors', () => {
    // kubeadm refuses a loopback advertise address; any address of this machine will do (preflight only reads).
    const address = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    assert.ok(address, 'this machine has a non-loopback IPv4 address');
    const socket = path.join(work, 'no-runtime.sock');
    const init = renderInitConfig({
      clusterName: 'west',
      nodeName: 'node-1',
      advertiseAddress: address,
      controlPlaneEndpoint: `${address}:6443`,
      kubernetesVersion: '1.37.2',
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
      token: 'abcdef.0123456789abcdef',
      certificateKey: 'a'.repeat(64),
    });
    const file = path.join(work, 'preflight.yaml');
    writeFileSync(
      file,
      edit(init, 'InitConfiguration', (d) => ((d.nodeRegistration as Record<string, unknown>).criSocket = `unix://${socket}`)),
      { mode: 0o600 },
    );
    const runtimeLines = (result: { code: number; stderr: string }) => {
      assert.equal(result.code, 1, result.stderr);
      return result.stderr.split('\n').filter((l) => /^\t\[ERROR (CRI|ContainerRuntimeVersion)\]/.test(l));
    };
    const real = runtimeLines(run(realKubeadm, ['init', 'phase', 'preflight', '--config', file]));
    assert.equal(real.length, 2, 'kubeadm checks the runtime twice');
    assert.deepEqual(runtimeLines(run(labKubeadm, ['init', 'phase', 'preflight', '--config', file], labHostEnv())), real);
    // A missing runtime is not an earlier run's leftovers.
    assert.equal(alreadySetUp(real.join('\n')), false);
  });

  test('discovery to an endpoint where nothing listens: the same error, which kubeha retries as it is', () => {
    const join = renderJoinConfig({
      kubernetesVersion: '1.37.2',
      nodeName: 'node-1',
      apiServerEndpoint: '127.0.0.1:1',
      token: 'abcdef.0123456789abcdef',
      caCertHash: `sha256:${'4'.repeat(64)}`,
    });
    const file = path.join(work, 'join.yaml');
    // kubeadm's discovery timeout, shortened in the config as an operator can.
    writeFileSync(
      file,
      edit(join, 'JoinConfiguration', (d) => (d.timeouts = { discovery: '3s' })),
      { mode: 0o600 },
    );
    const errorLine = (result: { code: number; stderr: string }) => {
      assert.equal(result.code, 1, result.stderr);
      return result.stderr.split('\n').filter((l) => l.startsWith('error: '));
    };
    const args = ['join', '--config', file, '--ignore-preflight-errors=all'];
    const real = errorLine(run(realKubeadm, args));
    assert.match(
      real.join('\n'),
      /couldn't validate the identity of the API Server: failed to request the cluster-info ConfigMap: .*connect: connection refused/,
    );
    assert.deepEqual(errorLine(run(labKubeadm, args, labHostEnv())), real);
    const output = real.join('\n');
    assert.deepEqual([transientNetwork(output), rejectedCredential(output), halfDoneEtcdJoin(output)], [true, undefined, false]);
  });
});
