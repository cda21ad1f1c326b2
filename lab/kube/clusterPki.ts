/**
 * The cluster's PKI on disk, laid out as kubeadm lays it out under certificatesDir (default
 * /etc/kubernetes/pki): the three CAs, each host's serving and client certificates, the service
 * account key pair, and the kubeconfig files in /etc/kubernetes.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { ClusterConfig } from './config';
import { KUBE } from './env';
import { renderKubeconfig } from './kubeconfig';
import { type CertAndKey, type CertSpec, loadKey, newCA, newCert, newKey, parseCert } from './pki';

/** The CAs: base name under certificatesDir and common name. */
export const CAS = {
  ca: { base: 'ca', cn: 'kubernetes', checkName: 'ca' },
  frontProxy: { base: 'front-proxy-ca', cn: 'front-proxy-ca', checkName: 'front-proxy-ca' },
  etcd: { base: 'etcd/ca', cn: 'etcd-ca', checkName: 'etcd-ca' },
} as const;
export type CaName = keyof typeof CAS;

/** Where a host's certificates point: its name and address. */
export interface HostIdentity {
  nodeName: string;
  address: string;
}

/** A leaf certificate of the PKI: base name, check-expiration name, signing CA and spec. */
export interface LeafDef {
  base: string;
  checkName: string;
  ca: CaName;
  /** Printed by `certs renew` ("certificate for serving the Kubernetes API renewed"). */
  description: string;
  spec(cluster: ClusterConfig, host: HostIdentity): Omit<CertSpec, 'validityMs'>;
}

/** The first address of a service CIDR (10.96.0.0/12 → 10.96.0.1): the `kubernetes` Service IP. */
export function firstServiceIp(cidr: string): string {
  const [base] = cidr.split(',')[0].split('/');
  const octets = base.split('.').map(Number);
  const value = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3] + 1;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function endpointHost(endpoint: string): string | undefined {
  if (!endpoint) return undefined;
  const match = /^\[?([^\]]+?)\]?(?::\d+)?$/.exec(endpoint);
  return match?.[1];
}

/** The API server's serving SANs, as kubeadm computes them. */
export function apiServerSans(cluster: ClusterConfig, host: HostIdentity): { dnsNames: string[]; ips: string[] } {
  const dnsNames = [host.nodeName, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${cluster.dnsDomain}`];
  const ips = [firstServiceIp(cluster.serviceSubnet), host.address];
  for (const extra of [endpointHost(cluster.controlPlaneEndpoint), ...cluster.certSANs]) {
    if (!extra) continue;
    const list = isIP(extra) ? ips : dnsNames;
    if (!list.includes(extra)) list.push(extra);
  }
  return { dnsNames, ips };
}

/** Every leaf certificate kubeadm makes on a control-plane host. */
export const LEAVES: LeafDef[] = [
  {
    base: 'apiserver',
    checkName: 'apiserver',
    ca: 'ca',
    description: 'certificate for serving the Kubernetes API',
    spec: (c, h) => ({ commonName: 'kube-apiserver', usages: ['server'], ...apiServerSans(c, h) }),
  },
  {
    base: 'apiserver-kubelet-client',
    checkName: 'apiserver-kubelet-client',
    ca: 'ca',
    description: 'certificate for the API server to connect to kubelet',
    spec: () => ({ commonName: 'kube-apiserver-kubelet-client', organizations: ['kubeadm:cluster-admins'], usages: ['client'] }),
  },
  {
    base: 'front-proxy-client',
    checkName: 'front-proxy-client',
    ca: 'frontProxy',
    description: 'certificate for the front proxy client',
    spec: () => ({ commonName: 'front-proxy-client', usages: ['client'] }),
  },
  {
    base: 'etcd/server',
    checkName: 'etcd-server',
    ca: 'etcd',
    description: 'certificate for serving etcd',
    spec: (_c, h) => ({ commonName: h.nodeName, usages: ['server', 'client'], dnsNames: ['localhost', h.nodeName], ips: [h.address, '127.0.0.1', '::1'] }),
  },
  {
    base: 'etcd/peer',
    checkName: 'etcd-peer',
    ca: 'etcd',
    description: 'certificate for etcd nodes to communicate with each other',
    spec: (_c, h) => ({ commonName: h.nodeName, usages: ['server', 'client'], dnsNames: ['localhost', h.nodeName], ips: [h.address, '127.0.0.1', '::1'] }),
  },
  {
    base: 'etcd/healthcheck-client',
    checkName: 'etcd-healthcheck-client',
    ca: 'etcd',
    description: 'certificate for liveness probes to healthcheck etcd',
    spec: () => ({ commonName: 'kube-etcd-healthcheck-client', usages: ['client'] }),
  },
  {
    base: 'apiserver-etcd-client',
    checkName: 'apiserver-etcd-client',
    ca: 'etcd',
    description: 'certificate the apiserver uses to access etcd',
    spec: () => ({ commonName: 'kube-apiserver-etcd-client', usages: ['client'] }),
  },
];

/** The kubeconfig files kubeadm writes: file, identity, and whether check-expiration lists it. */
export const KUBECONFIGS = [
  {
    file: 'admin.conf',
    userName: 'kubernetes-admin',
    cn: 'kubernetes-admin',
    org: ['kubeadm:cluster-admins'],
    checked: true,
    description: 'certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself',
  },
  {
    file: 'super-admin.conf',
    userName: 'kubernetes-super-admin',
    cn: 'kubernetes-super-admin',
    org: ['system:masters'],
    checked: true,
    description: 'certificate embedded in the kubeconfig file for the super-admin',
  },
  {
    file: 'kubelet.conf',
    userName: 'system:node:NODE',
    cn: 'system:node:NODE',
    org: ['system:nodes'],
    checked: false,
    description: 'certificate embedded in the kubeconfig file for the kubelet',
  },
  {
    file: 'controller-manager.conf',
    userName: 'system:kube-controller-manager',
    cn: 'system:kube-controller-manager',
    org: [],
    checked: true,
    description: 'certificate embedded in the kubeconfig file for the controller manager to use',
  },
  {
    file: 'scheduler.conf',
    userName: 'system:kube-scheduler',
    cn: 'system:kube-scheduler',
    org: [],
    checked: true,
    description: 'certificate embedded in the kubeconfig file for the scheduler manager to use',
  },
] as const;
export type KubeconfigFile = (typeof KUBECONFIGS)[number]['file'];

/** Paths of a base name under a certificates directory. */
export function pkiPaths(dir: string, base: string): { crt: string; key: string } {
  return { crt: path.join(dir, `${base}.crt`), key: path.join(dir, `${base}.key`) };
}

function writeFile(file: string, content: string, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
}

/** Writes a certificate (0644) and its key (0600). */
export function writeCertAndKey(dir: string, base: string, pair: CertAndKey): void {
  const paths = pkiPaths(dir, base);
  writeFile(paths.crt, pair.certPem, 0o644);
  writeFile(paths.key, pair.key.privatePem, 0o600);
}

/** Reads a certificate and key from disk. */
export async function readCertAndKey(dir: string, base: string): Promise<CertAndKey> {
  const paths = pkiPaths(dir, base);
  const certPem = readFileSync(paths.crt, 'utf8');
  return { cert: parseCert(certPem), certPem, key: await loadKey(readFileSync(paths.key, 'utf8')) };
}

/** Whether both files of a base name exist. */
export function hasCertAndKey(dir: string, base: string): boolean {
  const paths = pkiPaths(dir, base);
  return existsSync(paths.crt) && existsSync(paths.key);
}

type Log = (line: string) => void;

/** The CAs: kept when present (join downloads them), else generated. */
export async function ensureCAs(cluster: ClusterConfig, log: Log): Promise<Record<CaName, CertAndKey>> {
  const dir = cluster.certificatesDir;
  const out = {} as Record<CaName, CertAndKey>;
  for (const [name, ca] of Object.entries(CAS) as [CaName, (typeof CAS)[CaName]][]) {
    if (hasCertAndKey(dir, ca.base)) {
      log(`[certs] Using existing ${ca.base} certificate authority`);
      out[name] = await readCertAndKey(dir, ca.base);
    } else {
      log(`[certs] Generating "${ca.base}" certificate and key`);
      out[name] = await newCA(ca.cn, cluster.caCertificateValidityMs, cluster.encryptionAlgorithm);
      writeCertAndKey(dir, ca.base, out[name]);
    }
  }
  return out;
}

/** Every leaf certificate of this host, generated (an existing one is kept, as kubeadm does). */
export async function ensureLeaves(cluster: ClusterConfig, host: HostIdentity, cas: Record<CaName, CertAndKey>, log: Log, force = false): Promise<void> {
  const dir = cluster.certificatesDir;
  const todo = LEAVES.filter((leaf) => force || !hasCertAndKey(dir, leaf.base));
  await Promise.all(
    todo.map(async (leaf) => {
      const pair = await newCert(cas[leaf.ca], { ...leaf.spec(cluster, host), validityMs: cluster.certificateValidityMs }, cluster.encryptionAlgorithm);
      writeCertAndKey(dir, leaf.base, pair);
    }),
  );
  // Printed in kubeadm's order after the parallel generation.
  for (const leaf of todo) {
    log(`[certs] Generating "${leaf.base}" certificate and key`);
    const spec = leaf.spec(cluster, host);
    if (spec.usages.includes('server')) {
      log(`[certs] ${leaf.base} serving cert is signed for DNS names [${(spec.dnsNames ?? []).join(' ')}] and IPs [${(spec.ips ?? []).join(' ')}]`);
    }
  }
}

/** The service account key pair (sa.key, sa.pub): kept when present. */
export async function ensureServiceAccountKey(cluster: ClusterConfig, log: Log): Promise<void> {
  const dir = cluster.certificatesDir;
  if (existsSync(path.join(dir, 'sa.key')) && existsSync(path.join(dir, 'sa.pub'))) {
    log('[certs] Using the existing "sa" key');
    return;
  }
  log('[certs] Generating "sa" key and public key');
  // kubeadm makes the service account key RSA even with ECDSA certificates only when asked: keep its default algorithm.
  const key = await newKey(cluster.encryptionAlgorithm === 'ECDSA-P256' ? 'ECDSA-P256' : 'RSA-2048');
  writeFile(path.join(dir, 'sa.key'), key.privatePem, 0o600);
  writeFile(path.join(dir, 'sa.pub'), key.publicPem, 0o644);
}

/** Writes kubeconfig files signed by the cluster CA, each pointing at `server`. */
export async function writeKubeconfigs(options: {
  cluster: ClusterConfig;
  ca: CertAndKey;
  nodeName: string;
  files: readonly KubeconfigFile[];
  serverFor: (file: KubeconfigFile) => string;
  log: Log;
}): Promise<void> {
  const { cluster, ca, nodeName, files, serverFor, log } = options;
  log(`[kubeconfig] Using kubeconfig folder "${KUBE.dir}"`);
  const made = await Promise.all(
    files.map(async (file) => {
      const def = KUBECONFIGS.find((k) => k.file === file)!;
      const cn = def.cn.replace('NODE', nodeName);
      const pair = await newCert(
        ca,
        { commonName: cn, organizations: [...def.org], usages: ['client'], validityMs: cluster.certificateValidityMs },
        cluster.encryptionAlgorithm,
      );
      return {
        file,
        text: renderKubeconfig({
          clusterName: cluster.clusterName,
          server: serverFor(file),
          caPem: ca.certPem,
          userName: def.userName.replace('NODE', nodeName),
          user: { clientCertificatePem: pair.certPem, clientKeyPem: pair.key.privatePem },
        }),
      };
    }),
  );
  for (const { file, text } of made) {
    log(`[kubeconfig] Writing "${file}" kubeconfig file`);
    writeFile(path.join(KUBE.dir, file), text, 0o600);
  }
}

export { writeFile as writeFileWithMode };
