import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  kubeadmApiVersion,
  minorVersion,
  normalizeKubernetesVersion,
  parseKubeadmConfig,
  renderInitConfig,
  renderJoinConfig,
  renderUploadCertsConfig,
} from '../../activities/hosts/kubeadmConfig';

const TOKEN = 'ntblkw.1hrffrksb3baznfw';
const KEY = 'c5cd0516bd0f9f56bfaa339485a264aeea1251e9b8c308fd1e4bec08c4667057';
const HASH = 'sha256:06a77f294328be84a153207342db0467c0634e68bd626cf9e0fafb7f706f6f2b';
const ENDPOINT = 'kube-api-lab-4f1c9e27b0d35a68.elb.us-east-1.amazonaws.com:6443';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const initInput = (kubernetesVersion: string) => ({
  clusterName: 'lab',
  nodeName: 'cp-a',
  advertiseAddress: '10.20.1.11',
  controlPlaneEndpoint: ENDPOINT,
  kubernetesVersion,
  podSubnet: '192.168.0.0/16',
  serviceSubnet: '10.96.0.0/12',
  token: TOKEN,
  certificateKey: KEY,
});

describe('versions', () => {
  test('v1beta4 from 1.31 on, v1beta3 before', () => {
    assert.equal(kubeadmApiVersion('1.30.9'), 'kubeadm.k8s.io/v1beta3');
    assert.equal(kubeadmApiVersion('v1.31.0'), 'kubeadm.k8s.io/v1beta4');
    assert.equal(kubeadmApiVersion('1.34.2'), 'kubeadm.k8s.io/v1beta4');
    assert.equal(kubeadmApiVersion('1.26.0'), 'kubeadm.k8s.io/v1beta3');
  });

  test('normalized and minor versions; nonsense is refused', () => {
    assert.equal(normalizeKubernetesVersion('1.31.2'), 'v1.31.2');
    assert.equal(minorVersion('v1.31.2'), '1.31');
    assert.throws(() => normalizeKubernetesVersion('latest'), /must look like 1.31.2/);
  });
});

describe('InitConfiguration + ClusterConfiguration', () => {
  test('1.31: v1beta4 documents with endpoint, version, subnets, token and certificate key', () => {
    const [init, cluster] = parseKubeadmConfig(renderInitConfig(initInput('1.31.2'))) as Doc[];
    assert.equal(init.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(init.kind, 'InitConfiguration');
    assert.equal(init.certificateKey, KEY);
    assert.equal(init.bootstrapTokens.length, 1);
    assert.equal(init.bootstrapTokens[0].token, TOKEN);
    assert.equal(init.bootstrapTokens[0].ttl, '24h0m0s');
    assert.deepEqual(init.bootstrapTokens[0].usages, ['signing', 'authentication']);
    assert.equal(init.nodeRegistration.name, 'cp-a');
    assert.equal(init.nodeRegistration.criSocket, 'unix:///var/run/containerd/containerd.sock');
    assert.deepEqual(init.localAPIEndpoint, { advertiseAddress: '10.20.1.11', bindPort: 6443 });
    assert.equal(cluster.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(cluster.kind, 'ClusterConfiguration');
    assert.equal(cluster.controlPlaneEndpoint, ENDPOINT);
    assert.equal(cluster.kubernetesVersion, 'v1.31.2');
    assert.equal(cluster.clusterName, 'lab');
    assert.deepEqual(cluster.networking, { podSubnet: '192.168.0.0/16', serviceSubnet: '10.96.0.0/12' });
  });

  test('1.30: v1beta3 on both documents', () => {
    const docs = parseKubeadmConfig(renderInitConfig(initInput('1.30.6'))) as Doc[];
    assert.deepEqual(
      docs.map((d) => d.apiVersion),
      ['kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta3'],
    );
  });
});

describe('JoinConfiguration', () => {
  test('control plane: discovery token, CA pin, certificate key and advertise address', () => {
    const [join] = parseKubeadmConfig(
      renderJoinConfig({
        kubernetesVersion: 'v1.31.2',
        nodeName: 'cp-b',
        apiServerEndpoint: ENDPOINT,
        token: TOKEN,
        caCertHash: HASH,
        controlPlane: { certificateKey: KEY, advertiseAddress: '10.20.2.12' },
      }),
    ) as Doc[];
    assert.equal(join.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(join.kind, 'JoinConfiguration');
    assert.deepEqual(join.discovery.bootstrapToken, { token: TOKEN, apiServerEndpoint: ENDPOINT, caCertHashes: [HASH] });
    assert.equal(join.controlPlane.certificateKey, KEY);
    assert.deepEqual(join.controlPlane.localAPIEndpoint, { advertiseAddress: '10.20.2.12', bindPort: 6443 });
    assert.equal(join.nodeRegistration.name, 'cp-b');
  });

  test('worker: no controlPlane section at all', () => {
    const [join] = parseKubeadmConfig(
      renderJoinConfig({ kubernetesVersion: '1.29.4', nodeName: 'w-1', apiServerEndpoint: ENDPOINT, token: TOKEN, caCertHash: HASH }),
    ) as Doc[];
    assert.equal(join.apiVersion, 'kubeadm.k8s.io/v1beta3');
    assert.equal(join.controlPlane, undefined);
    assert.equal(join.discovery.bootstrapToken.token, TOKEN);
  });
});

describe('upload-certs configuration', () => {
  const stored = [
    'apiServer: {}',
    'apiVersion: kubeadm.k8s.io/v1beta4',
    'certificatesDir: /etc/kubernetes/pki',
    'clusterName: lab',
    `controlPlaneEndpoint: ${ENDPOINT}`,
    'kind: ClusterConfiguration',
    'kubernetesVersion: v1.31.2',
    'networking:',
    '  podSubnet: 192.168.0.0/16',
    '',
  ].join('\n');

  test("carries the new key and the cluster's own ClusterConfiguration", () => {
    const [init, cluster] = parseKubeadmConfig(renderUploadCertsConfig({ clusterConfiguration: stored, certificateKey: KEY, nodeName: 'cp-a' })) as Doc[];
    assert.equal(init.kind, 'InitConfiguration');
    assert.equal(init.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(init.certificateKey, KEY);
    assert.equal(cluster.kind, 'ClusterConfiguration');
    assert.equal(cluster.kubernetesVersion, 'v1.31.2');
    assert.equal(cluster.certificatesDir, '/etc/kubernetes/pki');
    assert.equal(cluster.controlPlaneEndpoint, ENDPOINT);
  });

  test('refuses a document that is not a ClusterConfiguration', () => {
    assert.throws(
      () => renderUploadCertsConfig({ clusterConfiguration: 'kind: KubeletConfiguration\n', certificateKey: KEY, nodeName: 'x' }),
      /no ClusterConfiguration/,
    );
    assert.throws(() => renderUploadCertsConfig({ clusterConfiguration: '', certificateKey: KEY, nodeName: 'x' }), /no ClusterConfiguration/);
  });
});
