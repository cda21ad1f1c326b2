/**
 * The lab's kubeadm against the REAL kubeadm (built by lab/build/build-kube.sh): every config kubeha
 * renders (init, join for a control plane and a worker, upload-certs, for each Kubernetes version
 * kubeha picks an API version for), and variants with a wrong-version extraArgs shape, unknown
 * fields, wrong types and old API versions, go to `kubeadm config validate` of both. They must
 * give the same verdict, and when they refuse, the same error.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { kubeadmApiVersion, renderInitConfig, renderJoinConfig, renderUploadCertsConfig } from '../../../activities/hosts/kubeadmConfig';
import { clusterConfig, renderClusterConfiguration } from '../../../lab/kube/config';
import { KUBERNETES_VERSION } from '../../../lab/kube/env';
import { projectRoot } from '../../../lib/paths';

const buildScript = path.join(projectRoot, 'lab', 'build', 'build-kube.sh');
const labKubeadm = path.join(projectRoot, 'lab', 'tools', 'bin', 'kubeadm');
let realKubeadm: string;
let work: string;

before(() => {
  execFileSync('bash', [buildScript, 'kubeadm'], { stdio: 'inherit' });
  const binDir = execFileSync('bash', [buildScript], { env: { ...process.env, KUBE_PRINT_BIN_DIR: '1' }, encoding: 'utf8' }).trim();
  realKubeadm = path.join(binDir, 'kubeadm');
  work = mkdtempSync(path.join(tmpdir(), 'kubeha-kubeadm-contract-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Verdict {
  code: number;
  stdout: string;
  stderr: string;
}

function validate(binary: string, file: string): Verdict {
  const result = spawnSync(binary, ['config', 'validate', '--config', file], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Both kubeadms on one file: the same exit code and output; returns the real one's verdict. */
function sameVerdict(name: string, config: string): Verdict {
  const file = path.join(work, `${name.replace(/[^a-z0-9]+/gi, '-')}.yaml`);
  writeFileSync(file, config, { mode: 0o600 });
  const real = validate(realKubeadm, file);
  const lab = validate(labKubeadm, file);
  assert.deepEqual(
    { code: lab.code, stdout: lab.stdout, stderr: lab.stderr },
    { code: real.code, stdout: real.stdout, stderr: real.stderr },
    `${name}: the lab's kubeadm disagrees with kubeadm\n${config}`,
  );
  return real;
}

/** Changes one document of a rendered config (by kind) and renders it again. */
function edit(config: string, kind: string, change: (doc: Record<string, unknown>) => void): string {
  return parseAllDocuments(config)
    .map((d) => {
      const doc = d.toJS() as Record<string, unknown>;
      if (doc.kind === kind) change(doc);
      return stringify(doc, { lineWidth: 0 });
    })
    .join('---\n');
}

const token = 'abcdef.0123456789abcdef';
const certificateKey = 'a'.repeat(64);
const endpoint = 'kube-api-west-1.elb.us-east-1.amazonaws.com:6443';
const caCertHash = `sha256:${'4'.repeat(64)}`;
const initFor = (kubernetesVersion: string) =>
  renderInitConfig({
    clusterName: 'west',
    nodeName: 'cp-1',
    advertiseAddress: '10.0.1.11',
    controlPlaneEndpoint: endpoint,
    kubernetesVersion,
    podSubnet: '192.168.0.0/16',
    serviceSubnet: '10.96.0.0/12',
    token,
    certificateKey,
  });
const joinFor = (kubernetesVersion: string, controlPlane: boolean) =>
  renderJoinConfig({
    kubernetesVersion,
    nodeName: controlPlane ? 'cp-2' : 'worker-1',
    apiServerEndpoint: endpoint,
    token,
    caCertHash,
    controlPlane: controlPlane ? { certificateKey, advertiseAddress: '10.0.1.12' } : undefined,
  });

describe("the lab's kubeadm reads configs as the real kubeadm does", { timeout: 600_000 }, () => {
  test('the lab emulates the kubeadm version that is built', () => {
    assert.equal(execFileSync(realKubeadm, ['version', '-o', 'short'], { encoding: 'utf8' }).trim(), KUBERNETES_VERSION);
  });

  // kubeha writes v1beta3 before Kubernetes 1.31 and v1beta4 from 1.31 on; kubeadm 1.37 reads only
  // v1beta4, and deploys control planes from 1.36 on.
  for (const version of ['1.30.9', '1.31.4', '1.35.1', '1.36.0', '1.37.2']) {
    test(`kubeha's configs for Kubernetes ${version} (${kubeadmApiVersion(version)})`, () => {
      const init = sameVerdict(`init-${version}`, initFor(version));
      const cp = sameVerdict(`join-cp-${version}`, joinFor(version, true));
      const worker = sameVerdict(`join-worker-${version}`, joinFor(version, false));
      if (version === '1.37.2') for (const v of [init, cp, worker]) assert.equal(v.code, 0, v.stderr);
      if (version === '1.30.9') for (const v of [init, cp, worker]) assert.match(v.stderr, /uses an old API spec: "kubeadm\.k8s\.io\/v1beta3"/);
    });
  }

  test("kubeha's upload-certs config, over the ClusterConfiguration the lab uploads", () => {
    const uploaded = renderClusterConfiguration(
      clusterConfig({
        clusterName: 'west',
        controlPlaneEndpoint: endpoint,
        networking: { podSubnet: '192.168.0.0/16' },
        apiServer: { extraArgs: [{ name: 'audit-log-maxage', value: '7' }] },
      }),
    );
    const verdict = sameVerdict('upload-certs', renderUploadCertsConfig({ clusterConfiguration: uploaded, certificateKey, nodeName: 'cp-1' }));
    assert.equal(verdict.code, 0, verdict.stderr);
  });

  const base = initFor(KUBERNETES_VERSION);
  const variants: [string, string, boolean][] = [
    [
      'v1beta4 extraArgs as a list',
      edit(base, 'ClusterConfiguration', (d) => (d.apiServer = { extraArgs: [{ name: 'audit-log-maxage', value: '7' }], certSANs: ['10.0.1.100'] })),
      true,
    ],
    [
      'v1beta3-shaped apiServer.extraArgs (a map) in v1beta4',
      edit(base, 'ClusterConfiguration', (d) => (d.apiServer = { extraArgs: { 'audit-log-maxage': '7' } })),
      false,
    ],
    [
      'v1beta3-shaped etcd.local.extraArgs in v1beta4',
      edit(base, 'ClusterConfiguration', (d) => (d.etcd = { local: { dataDir: '/var/lib/etcd', extraArgs: { 'snapshot-count': '1000' } } })),
      false,
    ],
    [
      'v1beta3-shaped controllerManager.extraArgs in v1beta4',
      edit(base, 'ClusterConfiguration', (d) => (d.controllerManager = { extraArgs: { 'bind-address': '0.0.0.0' } })),
      false,
    ],
    [
      'v1beta3-shaped kubeletExtraArgs in v1beta4',
      edit(base, 'InitConfiguration', (d) => ((d.nodeRegistration as Record<string, unknown>).kubeletExtraArgs = { 'node-ip': '10.0.1.11' })),
      false,
    ],
    [
      'v1beta4-shaped extraArgs in v1beta3',
      edit(initFor('1.30.9'), 'ClusterConfiguration', (d) => (d.apiServer = { extraArgs: [{ name: 'a', value: 'b' }] })),
      false,
    ],
    ['an unknown top-level field', edit(base, 'ClusterConfiguration', (d) => (d.bogusField = 1)), false],
    ['unknown nested fields', edit(base, 'ClusterConfiguration', (d) => Object.assign(d.networking as object, { bogus: 1, alsoBogus: 'x' })), false],
    ['an unknown field in a list item', edit(base, 'InitConfiguration', (d) => Object.assign((d.bootstrapTokens as object[])[0], { bogus: true })), false],
    [
      'an unknown field of an extraArgs item',
      edit(base, 'ClusterConfiguration', (d) => (d.apiServer = { extraArgs: [{ name: 'a', value: 'b', bogus: 'c' }] })),
      false,
    ],
    [
      'a string where kubeadm wants an int32',
      edit(base, 'InitConfiguration', (d) => ((d.localAPIEndpoint as Record<string, unknown>).bindPort = '6443')),
      false,
    ],
    [
      'a string where kubeadm wants a list',
      edit(
        joinFor(KUBERNETES_VERSION, true),
        'JoinConfiguration',
        (d) => ((d.discovery as { bootstrapToken: Record<string, unknown> }).bootstrapToken.caCertHashes = caCertHash),
      ),
      false,
    ],
    [
      'an unknown field in a join controlPlane',
      edit(joinFor(KUBERNETES_VERSION, true), 'JoinConfiguration', (d) => Object.assign(d.controlPlane as object, { bogus: 1 })),
      false,
    ],
    ['a duplicate key', base.replace('clusterName: west', 'clusterName: west\nclusterName: east'), false],
    ['kubeadm.k8s.io/v1beta2', base.replaceAll('kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta2'), false],
    ['an unknown kind', `${base}---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: FooConfiguration\n`, false],
    ['a kubelet component config beside', `${base}---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n`, true],
    ['a control plane older than kubeadm deploys', edit(base, 'ClusterConfiguration', (d) => (d.kubernetesVersion = 'v1.35.3')), false],
  ];
  for (const [name, config, accepted] of variants) {
    test(`${name}: ${accepted ? 'accepted' : 'refused'} by both`, () => {
      const verdict = sameVerdict(name, config);
      assert.equal(verdict.code === 0, accepted, verdict.stderr);
    });
  }
});
