/**
 * `kubeadm join`: discovery with the bootstrap token, then for a control plane the download of the
 * uploaded certificates, this host's certificates, kubeconfigs and manifests, a new etcd learner
 * that is promoted once in sync; for a worker the kubelet's TLS bootstrap. Output and failures
 * follow kubeadm's.
 *
 * Lab differences: a joining control plane signs its own kubelet.conf with the downloaded CA
 * (kubeadm lets the kubelet bootstrap it; the result is the same credential), and a worker's TLS
 * bootstrap CSR is made by kubeadm rather than by the kubelet, then approved and signed by the lab
 * controller (see kubelet/controllers.ts).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { flag, flagList, type ParsedArgs, UsageError } from './args';
import { ApiError, KubeClient, type KubeObject } from './client';
import { ensureCAs, ensureLeaves, ensureServiceAccountKey, writeKubeconfigs } from './clusterPki';
import { clusterConfig, splitHostPort } from './config';
import { discover } from './discovery';
import { hostAddress, type HostEnv, KUBE } from './env';
import { KubeadmError, phase } from './errors';
import { endpointsHealthy, type EtcdAccess, listMembers } from './etcd';
import { etcdJoin } from './etcdJoin';
import { joinConfiguration } from './joinConfiguration';
import { readKubeconfig, renderKubeconfig } from './kubeconfig';
import { apiServerManifest, manifestPath, renderManifest } from './manifests';
import { markControlPlane, type Out, startKubelet, waitForApiServer, writeKubeletFiles } from './phases';
import { newKey, newRequest } from './pki';
import { dirAvailable, fileAvailable, ignoredChecks, ipv4Forwarding, nodeChecks, portAvailable, privilegedUser, reportPreflight } from './preflight';
import { downloadCerts } from './uploadCerts';

/** etcd client URLs of the other control planes, from their Nodes' addresses. */
async function etcdEndpoints(admin: KubeClient, self: string): Promise<string[]> {
  const nodes = await admin.get<{ items: KubeObject[] }>('/api/v1/nodes?labelSelector=node-role.kubernetes.io%2Fcontrol-plane');
  return nodes.items
    .filter((n) => n.metadata?.name !== self)
    .flatMap((n) =>
      ((n.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? [])
        .filter((a) => a.type === 'InternalIP')
        .map((a) => `https://${a.address}:2379`),
    );
}

/** A worker's kubelet client certificate through a CSR the lab controller signs. */
async function tlsBootstrap(tokenClient: KubeClient, nodeName: string, timeoutMs: number): Promise<{ certPem: string; keyPem: string }> {
  const key = await newKey('ECDSA-P256');
  const request = await newRequest(key, `system:node:${nodeName}`, ['system:nodes']);
  const csr = await tokenClient.create<KubeObject>('/apis/certificates.k8s.io/v1/certificatesigningrequests', {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'node-csr-' },
    spec: {
      request: Buffer.from(request).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
    },
  });
  const name = csr.metadata?.name as string;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const current = await tokenClient.get(`/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`);
    const status = (current.status ?? {}) as { certificate?: string; conditions?: { type: string; message?: string }[] };
    if (status.certificate) return { certPem: Buffer.from(status.certificate, 'base64').toString('utf8'), keyPem: key.privatePem };
    const denied = status.conditions?.find((c) => c.type === 'Denied' || c.type === 'Failed');
    if (denied) throw new KubeadmError(`certificate request was denied: ${denied.message ?? denied.type}`);
    await sleep(500);
  }
  throw new KubeadmError('error waiting for the kubelet to perform the TLS Bootstrap: timed out waiting for the condition');
}

/** Runs `kubeadm join`. */
export async function runJoin(args: ParsedArgs, host: HostEnv, out: Out, warn: Out): Promise<void> {
  const cfg = joinConfiguration(args, host);
  const controlPlane = cfg.controlPlane;
  const address = controlPlane?.advertiseAddress ?? hostAddress(host);
  if (controlPlane && !address) throw new UsageError('unable to select an IP from default routes.');
  const ignore = ignoredChecks(flagList(args, 'ignore-preflight-errors'), cfg.ignorePreflightErrors);
  const timeoutMs = host.settings.discoveryTimeoutSeconds !== undefined ? host.settings.discoveryTimeoutSeconds * 1000 : cfg.discoveryTimeoutMs;

  const prepared = await phase('preflight', async () => {
    out('[preflight] Running pre-flight checks');
    // kubeadm's JoinNodeChecks: a worker must not have a CA yet (a control plane downloads it);
    // forwarding is checked when discovery goes to an IPv4 address.
    reportPreflight(
      [
        privilegedUser(),
        fileAvailable(KUBE.kubeletConf),
        fileAvailable(KUBE.bootstrapKubeletConf),
        ...(await nodeChecks(cfg.criSocket, address ?? '127.0.0.1')),
        controlPlane ? undefined : fileAvailable(path.join(KUBE.pki, 'ca.crt')),
        net.isIPv4(splitHostPort(cfg.apiServerEndpoint).host) ? ipv4Forwarding() : undefined,
      ],
      ignore,
      warn,
    );
    let cluster;
    try {
      cluster = await discover({
        endpoint: cfg.apiServerEndpoint,
        token: cfg.token,
        caCertHashes: cfg.caCertHashes,
        unsafeSkipCAVerification: cfg.unsafeSkipCAVerification,
        timeoutMs,
        log: () => undefined,
      });
    } catch (err) {
      throw new KubeadmError(`couldn't validate the identity of the API Server: ${(err as Error).message}`);
    }
    const tokenClient = new KubeClient({
      server: cluster.server,
      caPem: cluster.caPem,
      user: { token: cfg.token },
      clusterName: cluster.clusterName,
      userName: 'tls-bootstrap-token-user',
    });
    out('[preflight] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...');
    out("[preflight] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.");
    let clusterDoc: Record<string, unknown>;
    try {
      const cm = await tokenClient.get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
      clusterDoc = parse((cm.data as Record<string, string>).ClusterConfiguration ?? '') as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw new KubeadmError('unable to fetch the kubeadm-config ConfigMap: Unauthorized');
      throw new KubeadmError(`unable to fetch the kubeadm-config ConfigMap: ${(err as Error).message}`);
    }
    const clusterCfg = clusterConfig(clusterDoc);
    if (controlPlane) {
      if (!clusterCfg.controlPlaneEndpoint) {
        throw new KubeadmError("unable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address");
      }
      out('[preflight] Running pre-flight checks before initializing the new control plane instance');
      reportPreflight(
        [
          await portAvailable(address!, controlPlane.bindPort),
          await portAvailable(address!, 10259),
          await portAvailable(address!, 10257),
          ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((c) => fileAvailable(path.join(KUBE.manifests, `${c}.yaml`))),
          await portAvailable(address!, 2379),
          await portAvailable(address!, 2380),
          dirAvailable(clusterCfg.etcdDataDir),
        ],
        ignore,
        warn,
      );
      out('[preflight] Pulling images required for setting up a Kubernetes cluster');
      out('[preflight] This might take a minute or two, depending on the speed of your internet connection');
      out("[preflight] You can also perform this action beforehand using 'kubeadm config images pull'");
    }
    return { cluster, tokenClient, clusterCfg };
  });
  const { cluster, tokenClient, clusterCfg } = prepared;

  if (!controlPlane) {
    await phase('kubelet-start', async () => {
      out('[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap');
      const credential = await tlsBootstrap(tokenClient, cfg.nodeName, 4 * 60_000);
      mkdirSync(KUBE.pki, { recursive: true });
      writeFileSync(path.join(KUBE.pki, 'ca.crt'), cluster.caPem, { mode: 0o644 });
      writeFileSync(
        KUBE.kubeletConf,
        renderKubeconfig({
          clusterName: cluster.clusterName,
          server: cluster.server,
          caPem: cluster.caPem,
          userName: 'default-auth',
          user: { clientCertificatePem: credential.certPem, clientKeyPem: credential.keyPem },
        }),
        { mode: 0o600 },
      );
      rmSync(KUBE.bootstrapKubeletConf, { force: true });
      writeKubeletFiles(cfg.nodeName, address ?? '', out);
      await startKubelet(host, out);
    });
    out(`
This node has joined the cluster:
* Certificate signing request was sent to apiserver and a response was received.
* The Kubelet was informed of the new secure connection details.

Run 'kubectl get nodes' on the control-plane to see this node join the cluster.
`);
    return;
  }

  const localUrl = `https://${address}:${controlPlane.bindPort}`;
  const selfHost = { nodeName: cfg.nodeName, address: address! };
  const cas = await phase('control-plane-prepare/download-certs', async () => {
    mkdirSync(clusterCfg.certificatesDir, { recursive: true });
    if (controlPlane.certificateKey)
      await downloadCerts({ client: tokenClient, certificatesDir: clusterCfg.certificatesDir, key: controlPlane.certificateKey, log: out });
    else out('[download-certs] Skipping certs download');
    return undefined;
  }).then(() =>
    phase('control-plane-prepare/certs', async () => {
      out(`[certs] Using certificateDir folder "${clusterCfg.certificatesDir}"`);
      const made = await ensureCAs(clusterCfg, out);
      await ensureLeaves(clusterCfg, selfHost, made, out);
      out(`[certs] Valid certificates and keys now exist in "${clusterCfg.certificatesDir}"`);
      await ensureServiceAccountKey(clusterCfg, out);
      return made;
    }),
  );

  await phase('control-plane-prepare/kubeconfig', async () => {
    out('[kubeconfig] Generating kubeconfig files');
    await writeKubeconfigs({
      cluster: clusterCfg,
      ca: cas.ca,
      nodeName: cfg.nodeName,
      files: ['admin.conf', 'controller-manager.conf', 'scheduler.conf'],
      serverFor: (f) => (f === 'admin.conf' ? `https://${clusterCfg.controlPlaneEndpoint}` : localUrl),
      log: out,
    });
  });

  await phase('control-plane-prepare/control-plane', async () => {
    mkdirSync(KUBE.manifests, { recursive: true });
    out(`[control-plane] Using manifest folder "${KUBE.manifests}"`);
    out('[control-plane] Creating static Pod manifest for "kube-apiserver"');
    writeFileSync(
      manifestPath('kube-apiserver'),
      renderManifest(apiServerManifest({ cluster: clusterCfg, address: address!, bindPort: controlPlane.bindPort })),
      { mode: 0o600 },
    );
  });

  const admin = new KubeClient(readKubeconfig(KUBE.adminConf));
  const access: EtcdAccess = await phase('check-etcd', async () => {
    out('[check-etcd] Checking that the etcd cluster is healthy');
    const endpoints = await etcdEndpoints(admin, cfg.nodeName);
    if (endpoints.length === 0) throw new KubeadmError('etcd cluster is not healthy: no etcd endpoints found among the control-plane Nodes');
    // kubeadm's etcd client syncs its endpoints with the member list (client.Sync): a control-plane Node whose
    // member is gone (a host lost and not yet rejoined) is no endpoint of the health check.
    const members = await listMembers({ endpoints, certificatesDir: clusterCfg.certificatesDir }).catch(() => undefined);
    const synced = members?.filter((m) => m.name !== '' && !m.isLearner).flatMap((m) => m.clientUrls) ?? endpoints;
    const etcd = { endpoints: synced.length > 0 ? synced : endpoints, certificatesDir: clusterCfg.certificatesDir };
    if (!(await endpointsHealthy(etcd))) throw new KubeadmError(`etcd cluster is not healthy: failed to dial endpoint ${etcd.endpoints.join(',')}`);
    return etcd;
  });

  await phase('kubelet-start', async () => {
    // Lab: the control plane's kubelet.conf is signed here with the downloaded CA and points at the local API server.
    await writeKubeconfigs({
      cluster: clusterCfg,
      ca: cas.ca,
      nodeName: cfg.nodeName,
      files: ['kubelet.conf'],
      serverFor: () => localUrl,
      log: () => undefined,
    });
    writeKubeletFiles(cfg.nodeName, address!, out);
    await startKubelet(host, out);
    out('[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap');
  });

  await phase('etcd-join', () =>
    etcdJoin({
      access,
      cluster: clusterCfg,
      nodeName: cfg.nodeName,
      address: address!,
      apiCallTimeoutMs: (host.settings.etcdApiCallTimeoutSeconds ?? cfg.etcdApiCallTimeoutMs / 1000) * 1000,
      verbosity: Number(flag(args, 'v') ?? 0),
      out,
      warn,
    }),
  );

  await phase('control-plane-join/mark-control-plane', async () => {
    const local = admin.withServer(localUrl);
    await waitForApiServer(local, localUrl, out);
    await markControlPlane(local, cfg.nodeName, undefined, out);
  });

  out(`
This node has joined the cluster and a new control plane instance was created:

* Certificate signing request was sent to apiserver and approval was received.
* The Kubelet was informed of the new secure connection details.
* Control plane label and taint were applied to the new node.
* The Kubernetes control plane instances scaled up.
* A new etcd member was added to the local/stacked etcd cluster.

To start administering your cluster from this node, you need to run the following as a regular user:

	mkdir -p $HOME/.kube
	sudo cp -i ${KUBE.adminConf} $HOME/.kube/config
	sudo chown $(id -u):$(id -g) $HOME/.kube/config

Run 'kubectl get nodes' to see this node join the cluster.
`);
}
