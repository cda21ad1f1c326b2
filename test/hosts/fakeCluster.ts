/**
 * The fake cluster's parts that are not the shell: recorded calls, etcd members, command results,
 * kubeadm's init output, admin.conf and prepare-host answers, sealed certificates, a CA made with
 * openssl, and a secret store in memory.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CommandResult } from '../../activities/ssh/types';
import { projectRoot } from '../../lib/paths';

/** One recorded call. */
export interface Recorded {
  host: string;
  kind: 'run' | 'writeFile' | 'readFile';
  command: string;
  stdin?: string;
  redact?: string[];
  path?: string;
  content?: string;
  mode?: number;
}

/** An etcd member of the fake cluster. */
export interface Member {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export const fixture = (name: string): string => readFileSync(path.join(projectRoot, 'test/fixtures/kubeadm', name), 'utf8');
export const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });
export const fail = (stderr: string, stdout = '', exitCode = 1): CommandResult => ({ exitCode, stdout, stderr, durationMs: 1 });
export const notFound = (what: string): CommandResult => fail(`Error from server (NotFound): ${what} not found\n`);
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const randomToken = (): string => {
  const pick = (n: number) => Array.from(randomBytes(n), (b) => alphabet[b % 36]).join('');
  return `${pick(6)}.${pick(16)}`;
};

/** A self-signed CA made with openssl, as kubeadm's /etc/kubernetes/pki/ca.crt would be. */
export function makeCaPem(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeha-fake-ca-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(dir, 'ca.key'),
        '-out',
        path.join(dir, 'ca.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=kubernetes',
      ],
      { stdio: 'ignore' },
    );
    return readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The kubeadm-certs Secret as kubeadm seals it (AES-GCM with the certificate key), as JSON. */
export function sealedCertsSecret(caPem: string, key: string, ownerTokenId: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'hex'), nonce);
  const sealed = Buffer.concat([nonce, cipher.update(caPem), cipher.final(), cipher.getAuthTag()]);
  return JSON.stringify({
    kind: 'Secret',
    metadata: { name: 'kubeadm-certs', ownerReferences: [{ kind: 'Secret', name: `bootstrap-token-${ownerTokenId}` }] },
    data: { 'ca.crt': sealed.toString('base64') },
  });
}

/** What `kubeadm init --upload-certs` prints, with the CA's real pin. */
export function initOutput(caPem: string, token: string, key: string, endpoint: string): string {
  const hash =
    'sha256:' +
    execFileSync('sh', ['-c', 'openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -d" " -f1'], {
      input: caPem,
      encoding: 'utf8',
    }).trim();
  return [
    '[init] Using Kubernetes version: v1.31.2',
    '[upload-certs] Using certificate key:',
    key,
    `[bootstrap-token] Using token: ${token}`,
    '',
    'Your Kubernetes control-plane has initialized successfully!',
    '',
    'You can now join any number of the control-plane node running the following command on each as root:',
    '',
    `  kubeadm join ${endpoint} --token ${token} \\`,
    `\t--discovery-token-ca-cert-hash ${hash} \\`,
    `\t--control-plane --certificate-key ${key}`,
    '',
    'Then you can join any number of worker nodes by running the following on each as root:',
    '',
    `kubeadm join ${endpoint} --token ${token} \\`,
    `\t--discovery-token-ca-cert-hash ${hash} `,
    '',
  ].join('\n');
}

/** A {@link SecretStore} in memory. */
export class MemorySecretStore {
  readonly values = new Map<string, string>();
  async put(name: string, value: string): Promise<void> {
    this.values.set(name, value);
  }
  async get(name: string): Promise<string> {
    const value = this.values.get(name);
    if (value === undefined) throw new Error(`secret ${name} missing`);
    return value;
  }
  async has(name: string): Promise<boolean> {
    return this.values.has(name);
  }
  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }
  async putIfAbsent(name: string, value: string): Promise<string> {
    if (!this.values.has(name)) this.values.set(name, value);
    return this.values.get(name) as string;
  }
}

/** An admin.conf as kubeadm writes it: embedded CA (the cluster's), client certificate and key. */
export function adminKubeconfig(host: string, caPem: string): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    `# admin of ${host}`,
    'clusters:',
    `- name: kubernetes\n  cluster:\n    server: https://lb.example:6443\n    certificate-authority-data: ${b64(caPem)}`,
    'users:',
    `- name: kubernetes-admin\n  user:\n    client-certificate-data: ${b64(caPem)}\n    client-key-data: ${b64('fake key')}`,
    'contexts:',
    '- name: kubernetes-admin@kubernetes\n  context:\n    cluster: kubernetes\n    user: kubernetes-admin',
    'current-context: kubernetes-admin@kubernetes',
    '',
  ].join('\n');
}

/**
 * The prepare-host script's answer: each item `ok` when `done` holds it, else `would-change` in a dry
 * run or `changed` (and added to `done`).
 */
export function prepareAnswer(script: string, done: Set<string>): CommandResult {
  const dry = /^DRY_RUN=1$/m.test(script);
  const controlPlane = /^CONTROL_PLANE=1$/m.test(script);
  const items = [
    'swap',
    'br_netfilter',
    'sysctl',
    'containerd',
    'containerd-config',
    'kubernetes-apt-repo',
    'kube-packages',
    'kube-hold',
    'kubelet-enabled',
    ...(controlPlane ? ['etcd-client'] : []),
  ];
  const lines = items.map((item) => {
    if (done.has(item)) return `ok ${item}`;
    if (dry) return `would-change ${item}`;
    done.add(item);
    return `changed ${item}`;
  });
  return ok(lines.join('\n') + '\n');
}
