/**
 * `kubeadm init`: kubeadm's init phases on a lab host, in kubeadm's order and with its output.
 * The control plane is real (etcd and kube-apiserver run as processes of the lab kubelet); the
 * addons (CoreDNS, kube-proxy) are not deployed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { flagList, flagSet, type ParsedArgs, UsageError } from './args';
import {
  createTokenSecret,
  DEFAULT_TOKEN_GROUP,
  ensureBootstrapRbac,
  ensureClusterAdmins,
  ensureClusterInfo,
  allowConfigMapRead,
  generateToken,
  splitToken,
  syncClusterInfoSignatures,
} from './bootstrap';
import { KubeClient } from './client';
import { ensureCAs, ensureLeaves, ensureServiceAccountKey, type KubeconfigFile, writeKubeconfigs } from './clusterPki';
import { type InitConfig, renderClusterConfiguration } from './config';
import { hostAddress, type HostEnv, KUBE } from './env';
import { phase } from './errors';
import { initConfiguration } from './initConfiguration';
import { readKubeconfig, renderClusterInfoKubeconfig } from './kubeconfig';
import { apiServerManifest, etcdManifest, manifestPath, renderManifest } from './manifests';
import { joinCommand, markControlPlane, type Out, startKubelet, waitForApiServer, writeKubeletFiles } from './phases';
import { caCertHash } from './pki';
import { dirAvailable, fileAvailable, ignoredChecks, ipv4Forwarding, nodeChecks, portAvailable, privilegedUser, reportPreflight } from './preflight';
import { uploadCerts } from './uploadCerts';

/**
 * init's preflight (kubeadm's InitNodeChecks, in its order): the control plane's ports and
 * manifests, the checks every node gets, forwarding, then etcd's ports and data directory.
 * Also `kubeadm init phase preflight`.
 */
export async function initPreflight(cfg: InitConfig, address: string, ignore: string[], out: Out, warn: Out): Promise<void> {
  out('[preflight] Running pre-flight checks');
  const issues = [
    privilegedUser(),
    await portAvailable(address, cfg.bindPort),
    await portAvailable(address, 10259),
    await portAvailable(address, 10257),
    ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((c) => fileAvailable(path.join(KUBE.manifests, `${c}.yaml`))),
    ...(await nodeChecks(cfg.criSocket, address)),
    ipv4Forwarding(),
    await portAvailable(address, 2379),
    await portAvailable(address, 2380),
    dirAvailable(cfg.cluster.etcdDataDir),
  ];
  reportPreflight(issues, ignore, warn);
  out('[preflight] Pulling images required for setting up a Kubernetes cluster');
  out('[preflight] This might take a minute or two, depending on the speed of your internet connection');
  out("[preflight] You can also perform this action beforehand using 'kubeadm config images pull'");
}

/** Runs `kubeadm init`. */
export async function runInit(args: ParsedArgs, host: HostEnv, out: Out, warn: Out): Promise<void> {
  const cfg = initConfiguration(args, host);
  const ignore = ignoredChecks(flagList(args, 'ignore-preflight-errors'), cfg.ignorePreflightErrors);
  const address = cfg.advertiseAddress ?? hostAddress(host);
  if (!address) throw new UsageError('unable to select an IP from default routes.');
  const cluster = cfg.cluster;
  const uploadCertsWanted = flagSet(args, 'upload-certs');
  for (const t of cfg.bootstrapTokens) {
    if (t.token === '') t.token = generateToken();
    if (!splitToken(t.token)) throw new UsageError(`the bootstrap token "${t.token}" was not of the form "^([a-z0-9]{6})\\.([a-z0-9]{16})$"`);
  }
  if (cfg.bootstrapTokens.length === 0)
    cfg.bootstrapTokens.push({ token: generateToken(), ttlMs: 24 * 3600_000, usages: ['signing', 'authentication'], groups: [DEFAULT_TOKEN_GROUP] });
  if (cfg.certificateKey && !/^[0-9a-f]{64}$/i.test(cfg.certificateKey))
    throw new UsageError('certificateKey: Invalid value: the certificate key must be a hex encoded 32-byte key');
  const localUrl = `https://${address}:${cfg.bindPort}`;
  const endpoint = cluster.controlPlaneEndpoint
    ? /:\d+$/.test(cluster.controlPlaneEndpoint)
      ? cluster.controlPlaneEndpoint
      : `${cluster.controlPlaneEndpoint}:${cfg.bindPort}`
    : `${address}:${cfg.bindPort}`;

  out(`[init] Using Kubernetes version: ${cluster.kubernetesVersion}`);
  await phase('preflight', () => initPreflight(cfg, address, ignore, out, warn));

  const host_ = { nodeName: cfg.nodeName, address };
  const cas = await phase('certs', async () => {
    out(`[certs] Using certificateDir folder "${cluster.certificatesDir}"`);
    const made = await ensureCAs(cluster, out);
    await ensureLeaves(cluster, host_, made, out);
    await ensureServiceAccountKey(cluster, out);
    return made;
  });

  await phase('kubeconfig', async () => {
    const files: KubeconfigFile[] = ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'controller-manager.conf', 'scheduler.conf'];
    // admin.conf points at the control-plane endpoint; the others at this host's API server.
    await writeKubeconfigs({
      cluster,
      ca: cas.ca,
      nodeName: cfg.nodeName,
      files,
      serverFor: (f) => (f === 'admin.conf' ? `https://${endpoint}` : localUrl),
      log: out,
    });
  });

  await phase('etcd', async () => {
    mkdirSync(KUBE.manifests, { recursive: true });
    out(`[etcd] Creating static Pod manifest for local etcd in "${KUBE.manifests}"`);
    writeFileSync(manifestPath('etcd'), renderManifest(etcdManifest({ cluster, nodeName: cfg.nodeName, address })), { mode: 0o600 });
  });

  await phase('control-plane', async () => {
    out(`[control-plane] Using manifest folder "${KUBE.manifests}"`);
    out('[control-plane] Creating static Pod manifest for "kube-apiserver"');
    writeFileSync(manifestPath('kube-apiserver'), renderManifest(apiServerManifest({ cluster, address, bindPort: cfg.bindPort })), { mode: 0o600 });
    // Lab: no kube-controller-manager or kube-scheduler (the lab controller in the kubelet stands in for what kubeadm needs).
  });

  await phase('kubelet-start', async () => {
    writeKubeletFiles(cfg.nodeName, address, out);
    await startKubelet(host, out);
  });

  const superAdmin = new KubeClient(readKubeconfig(KUBE.superAdminConf));
  await phase('wait-control-plane', async () => {
    out(`[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "${KUBE.manifests}"`);
    await waitForApiServer(superAdmin, localUrl, out);
  });

  await phase('upload-config', async () => {
    await ensureClusterAdmins(superAdmin);
    out('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace');
    await superAdmin.createOrUpdate('/api/v1/namespaces/kube-system/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
      data: { ClusterConfiguration: renderClusterConfiguration(cluster) },
    });
    await allowConfigMapRead(superAdmin, 'kubeadm:nodes-kubeadm-config', 'kubeadm-config');
    out('[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the kubelets in the cluster');
    await superAdmin.createOrUpdate('/api/v1/namespaces/kube-system/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubelet-config', namespace: 'kube-system' },
      data: { kubelet: 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n' },
    });
    await allowConfigMapRead(superAdmin, 'kubeadm:kubelet-config', 'kubelet-config');
  });

  let certificateKey: string | undefined;
  if (uploadCertsWanted) {
    certificateKey = cfg.certificateKey ?? randomBytes(32).toString('hex');
    await phase('upload-certs', async () => {
      await uploadCerts(superAdmin, cluster.certificatesDir, certificateKey!, host.settings.uploadedCertsTtlSeconds * 1000, out);
      out('[upload-certs] Using certificate key:');
      out(certificateKey!);
    });
  } else {
    out('[upload-certs] Skipping phase. Please see --upload-certs');
  }

  await phase('mark-control-plane', () => markControlPlane(superAdmin, cfg.nodeName, cfg.taints, out));

  await phase('bootstrap-token', async () => {
    for (const t of cfg.bootstrapTokens) out(`[bootstrap-token] Using token: ${flagSet(args, 'skip-token-print') ? '<value withheld>' : t.token}`);
    out('[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles');
    for (const t of cfg.bootstrapTokens) await createTokenSecret(superAdmin, t);
    await ensureBootstrapRbac(superAdmin, out);
    out('[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace');
    await ensureClusterInfo(superAdmin, renderClusterInfoKubeconfig(`https://${endpoint}`, cas.ca.certPem));
    await syncClusterInfoSignatures(superAdmin);
  });
  out(`[kubelet-finalize] Updating "${KUBE.kubeletConf}" to point to a rotatable kubelet client certificate and key`);

  const hash = caCertHash(cas.ca.certPem);
  for (const t of cfg.bootstrapTokens) {
    const token = flagSet(args, 'skip-token-print') ? '<value withheld>' : t.token;
    const key = certificateKey && flagSet(args, 'skip-certificate-key-print') ? '<value withheld>' : certificateKey;
    out(successText({ endpoint, hasEndpoint: cluster.controlPlaneEndpoint !== '', uploadCerts: uploadCertsWanted, token, hash, certificateKey: key }));
  }
}

/** kubeadm's init success message (showjoincommand.go's template). */
function successText(o: { endpoint: string; hasEndpoint: boolean; uploadCerts: boolean; token: string; hash: string; certificateKey?: string }): string {
  const controlPlane = joinCommand({
    endpoint: o.endpoint,
    token: o.token,
    caHashes: [o.hash],
    controlPlane: true,
    certificateKey: o.uploadCerts ? o.certificateKey : undefined,
  });
  const worker = joinCommand({ endpoint: o.endpoint, token: o.token, caHashes: [o.hash] });
  let text = `
Your Kubernetes control-plane has initialized successfully!

To start using your cluster, you need to run the following as a regular user:

  mkdir -p $HOME/.kube
  sudo cp -i ${KUBE.adminConf} $HOME/.kube/config
  sudo chown $(id -u):$(id -g) $HOME/.kube/config

Alternatively, if you are the root user, you can run:

  export KUBECONFIG=/etc/kubernetes/admin.conf

You should now deploy a pod network to the cluster.
Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:
  https://kubernetes.io/docs/concepts/cluster-administration/addons/

`;
  if (o.hasEndpoint) {
    if (o.uploadCerts) {
      text += `You can now join any number of control-plane nodes running the following command on each as root:

  ${controlPlane}

Please note that the certificate-key gives access to cluster sensitive data, keep it secret!
As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use
"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.

`;
    } else {
      text += `You can now join any number of control-plane nodes by copying certificate authorities
and service account keys on each node and then running the following as root:

  ${controlPlane}

`;
    }
  }
  text += `Then you can join any number of worker nodes by running the following on each as root:

${worker}`;
  return text;
}
