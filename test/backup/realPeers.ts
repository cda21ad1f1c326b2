/**
 * Real peers of the backup activity tests: a lab host (real sshd in its own mount namespace) with
 * kubeadm's etcd PKI and a REAL etcd (Debian etcd-server) serving TLS on the host's address, found by
 * the lab's etcdctl wrapper through the etcd manifest's annotation, as on a kubeadm host.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LabHost } from '../../lab/hosts';
import { ensureCAs, ensureLeaves, ensureServiceAccountKey } from '../../lab/kube/clusterPki';
import type { ClusterConfig } from '../../lab/kube/config';

/** A running etcd of one lab host. */
export interface HostEtcd {
  clientUrl: string;
  /** Puts `count` keys of `valueBytes` each (through etcd's JSON gateway, with the healthcheck client certificate). */
  fill(count: number, valueBytes: number): Promise<void>;
  stop(): Promise<void>;
}

/** Writes kubeadm's PKI into the host's /etc/kubernetes/pki and starts its etcd on the host's address. */
export async function startHostEtcd(host: LabHost): Promise<HostEtcd> {
  const pki = path.join(host.rootDir, 'etc/kubernetes/pki');
  const cluster: ClusterConfig = {
    clusterName: 'west',
    kubernetesVersion: '1.34.2',
    apiServerExtraArgs: {},
    etcdExtraArgs: {},
    etcdDataDir: '/var/lib/etcd',
    imageRepository: 'registry.k8s.io',
    controlPlaneEndpoint: `${host.address}:6443`,
    serviceSubnet: '10.96.0.0/12',
    dnsDomain: 'cluster.local',
    certSANs: [],
    certificatesDir: pki,
    encryptionAlgorithm: 'ECDSA-P256',
    certificateValidityMs: 86_400_000,
    caCertificateValidityMs: 86_400_000,
  };
  const quiet = () => undefined;
  const cas = await ensureCAs(cluster, quiet);
  await ensureLeaves(cluster, { nodeName: host.name, address: host.address }, cas, quiet);
  await ensureServiceAccountKey(cluster, quiet);
  const clientUrl = `https://${host.address}:2379`;
  const peerUrl = `https://${host.address}:2380`;
  const manifests = path.join(host.rootDir, 'etc/kubernetes/manifests');
  mkdirSync(manifests, { recursive: true });
  writeFileSync(
    path.join(manifests, 'etcd.yaml'),
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\n  annotations:\n    kubeadm.kubernetes.io/etcd.advertise-client-urls: ${clientUrl}\n`,
  );
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kubeha-backup-etcd-'));
  const etcdPki = path.join(pki, 'etcd');
  const etcd: ChildProcess = spawn(
    'etcd',
    [
      `--name=${host.name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${host.name}=${peerUrl}`,
      `--cert-file=${etcdPki}/server.crt`,
      `--key-file=${etcdPki}/server.key`,
      `--trusted-ca-file=${etcdPki}/ca.crt`,
      '--client-cert-auth=true',
      `--peer-cert-file=${etcdPki}/peer.crt`,
      `--peer-key-file=${etcdPki}/peer.key`,
      `--peer-trusted-ca-file=${etcdPki}/ca.crt`,
      '--peer-client-cert-auth=true',
      '--quota-backend-bytes=536870912',
    ],
    { stdio: 'ignore' },
  );
  const agent = new Agent({
    ca: readFileSync(`${etcdPki}/ca.crt`),
    cert: readFileSync(`${etcdPki}/healthcheck-client.crt`),
    key: readFileSync(`${etcdPki}/healthcheck-client.key`),
    keepAlive: true,
    maxSockets: 16,
  });
  const post = (route: string, body: object) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${clientUrl}${route}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  // etcd answers once it has elected itself.
  for (let i = 0; ; i++) {
    const status = await post('/v3/kv/range', { key: Buffer.from('probe').toString('base64') }).catch(() => 0);
    if (status === 200) break;
    if (i > 100) throw new Error(`etcd on ${clientUrl} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    clientUrl,
    async fill(count, valueBytes) {
      const value = Buffer.alloc(valueBytes, 'x').toString('base64');
      for (let i = 0; i < count; i += 16) {
        await Promise.all(
          Array.from({ length: Math.min(16, count - i) }, (_, j) =>
            post('/v3/kv/put', { key: Buffer.from(`/registry/test/${i + j}`).toString('base64'), value }),
          ),
        );
      }
    },
    async stop() {
      agent.destroy();
      etcd.kill('SIGTERM');
      await new Promise((r) => (etcd.exitCode !== null ? r(undefined) : etcd.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
