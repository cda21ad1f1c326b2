/**
 * What the rotation end-to-end test reads from the lab and the cluster on its own (never through
 * kubeha): Secret kube-system/kubeadm-certs through the API and opened with a certificate key the
 * way kubeadm does, a control-plane join run by hand with a given key, and every secret value the
 * lab and the worker's store hold, for the secret scan.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createDecipheriv, createHash, randomBytes, X509Certificate } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { kubehaDataConverter } from '../../../lib/codec/dataConverter';
import { type CliTarget, decodedPayloadTexts, findSecrets, type RunHistory, workflowHistories } from '../../support/secretScan';
import type { RemoteShell } from '../../../activities/ssh/types';
import { defaultTopologyInput, parseTopology } from '../../../lab/orchestrator';
import type { HostSpec } from '../../../common/inputs/shared';
import { labHostPaths } from '../../../lab/hosts/layout';
import type { KubeClient } from '../../../lab/kube/client';
import type { SecretValue } from '../../support/secretScan';
import { ROTATION_WORKER_RUNNING } from './rotationWorkerProcess';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Secret kube-system/kubeadm-certs as the API returns it. */
export interface KubeadmCertsSecret {
  resourceVersion: string;
  uid: string;
  /** Encrypted entries by name (`ca.crt`, `etcd-ca.key`...), base64. */
  data: Record<string, string>;
  annotations: Record<string, string>;
}

/** Reads Secret kube-system/kubeadm-certs; undefined when there is none. */
export async function kubeadmCertsSecret(kube: KubeClient): Promise<KubeadmCertsSecret | undefined> {
  const { status, body } = await kube.request('GET', '/api/v1/namespaces/kube-system/secrets/kubeadm-certs');
  if (status === 404) return undefined;
  assert.equal(status, 200, `GET kubeadm-certs answered ${status}`);
  const secret = body as { metadata: { resourceVersion: string; uid: string; annotations?: Record<string, string> }; data?: Record<string, string> };
  return {
    resourceVersion: secret.metadata.resourceVersion,
    uid: secret.metadata.uid,
    data: secret.data ?? {},
    annotations: secret.metadata.annotations ?? {},
  };
}

/**
 * Opens one entry of kubeadm-certs with a certificate key (AES-256-GCM as Go's cipher.AEAD seals:
 * 12-byte nonce first, 16-byte tag last). Throws when the key is not the one it was sealed with.
 */
export function openUploadedEntry(secret: KubeadmCertsSecret, entry: string, certificateKey: string): Buffer {
  const sealed = Buffer.from(secret.data[entry] ?? '', 'base64');
  assert.ok(sealed.length > 28, `kubeadm-certs has no ${entry}`);
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(certificateKey, 'hex'), sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

/** kubeadm's CA pin: SHA-256 of the CA certificate's SubjectPublicKeyInfo. */
export function caCertHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** A JoinConfiguration for a control-plane join with the given credentials (what an operator writes by hand). */
export function controlPlaneJoinConfig(options: { host: HostSpec; endpoint: string; token: string; caCertHash: string; certificateKey: string }): string {
  return [
    'apiVersion: kubeadm.k8s.io/v1beta4',
    'kind: JoinConfiguration',
    'discovery:',
    '  bootstrapToken:',
    `    apiServerEndpoint: "${options.endpoint}"`,
    `    token: "${options.token}"`,
    `    caCertHashes: ["${options.caCertHash}"]`,
    'nodeRegistration:',
    `  name: ${options.host.name}`,
    'controlPlane:',
    `  certificateKey: "${options.certificateKey}"`,
    '  localAPIEndpoint:',
    `    advertiseAddress: ${options.host.address}`,
    '    bindPort: 6443',
    '',
  ].join('\n');
}

/**
 * `kubeadm join --config F` on a host, F a fresh 0600 file (mktemp) filled from stdin and removed
 * afterwards: the credentials never reach a command line. The output starts with F's mode.
 */
export async function joinWithConfig(shell: RemoteShell, host: HostSpec, config: string): Promise<{ exitCode: number; output: string }> {
  const result = await shell.run(host, {
    command:
      'f=$(mktemp /tmp/kubeha-rotation-e2e.XXXXXX) || exit 1; cat > "$f"; stat -c "config mode %a" "$f"; kubeadm join --config "$f"; rc=$?; rm -f "$f"; exit $rc',
    stdin: config,
    timeoutMs: 5 * 60_000,
    label: 'kubeadm join by hand',
  });
  return { exitCode: result.exitCode, output: `${result.stdout}\n${result.stderr}` };
}

/** The worker child process, with everything it wrote (also appended to `logFile`). */
export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts test/lab/e2e/rotationWorkerProcess.js and resolves once its worker polls. */
export async function startRotationWorker(env: NodeJS.ProcessEnv, logFile: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, 'rotationWorkerProcess.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const keep = (chunk: Buffer) => {
    const s = chunk.toString('utf8');
    text += s;
    appendFileSync(logFile, s);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  while (!text.includes(ROTATION_WORKER_RUNNING)) {
    assert.equal(child.exitCode, null, `the worker process exited: ${text.slice(-2000)}`);
    assert.ok(Date.now() < deadline, `the worker process did not start: ${text.slice(-2000)}`);
    await sleep(100);
  }
  return {
    child,
    output: () => text,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Files under `dir`, recursively (none when it does not exist). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
}

/** `client-key-data` and `client-certificate-data` of a kubeconfig (base64, as written). */
export function kubeconfigClientData(text: string): { field: string; value: string }[] {
  return [...text.matchAll(/(client-key-data|client-certificate-data):\s*"?([A-Za-z0-9+/=]{40,})"?/g)].map((m) => ({ field: m[1], value: m[2] }));
}

/**
 * The private keys and kubeconfig client credentials the lab holds: its SSH keys (the client key
 * kubeha logs in with, each host's host key), every private key under each host's
 * /etc/kubernetes (CA, etcd CA, front-proxy CA, service-account and leaf keys), and the client data
 * of each host's kubeconfigs.
 */
export function labKeyMaterial(labDir: string, hostNames: string[]): SecretValue[] {
  const found: SecretValue[] = [];
  for (const file of filesUnder(path.join(labDir, 'ssh'))) {
    const text = readFileSync(file, 'utf8');
    if (text.includes('PRIVATE KEY')) found.push({ label: `lab ssh ${path.basename(file)}`, value: text });
  }
  for (const name of hostNames) {
    const etc = path.join(labHostPaths(labDir, name).rootDir, 'etc', 'kubernetes');
    for (const file of filesUnder(etc)) {
      const text = readFileSync(file, 'utf8');
      const where = `${name}:/etc/kubernetes/${path.relative(etc, file)}`;
      if (text.includes('PRIVATE KEY')) found.push({ label: where, value: text });
      for (const { field, value } of kubeconfigClientData(text)) found.push({ label: `${where} ${field}`, value });
    }
  }
  return found;
}

/** Bootstrap tokens the cluster knows (`<id>.<secret>` from each Secret of type bootstrap.kubernetes.io/token). */
export async function clusterBootstrapTokens(kube: KubeClient): Promise<string[]> {
  const { status, body } = await kube.request('GET', '/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken');
  assert.equal(status, 200, `listing bootstrap token Secrets answered ${status}`);
  const items = (body as { items?: { data?: Record<string, string> }[] }).items ?? [];
  return items
    .map((s) => s.data ?? {})
    .filter((d) => d['token-id'] && d['token-secret'])
    .map((d) => `${Buffer.from(d['token-id'], 'base64').toString('utf8')}.${Buffer.from(d['token-secret'], 'base64').toString('utf8')}`);
}

/** A bootstrap token as secret values: the whole token, and its secret half alone. */
export function tokenSecrets(token: string, where: string): SecretValue[] {
  const [, secretPart] = token.split('.');
  return [
    { label: `bootstrap token (${where})`, value: token },
    { label: `bootstrap token secret half (${where})`, value: secretPart ?? token },
  ];
}

/** West with 2 control planes and the spare (no workers: they add nothing here), on this test's addresses. */
export function rotationTopology(hostsBlockLabel: string) {
  const west = defaultTopologyInput().clusters[0];
  const hosts = [...west.hosts.filter((h) => h.role === 'control-plane').slice(0, 2), west.hosts.find((h) => h.role === 'spare-control-plane')!];
  return parseTopology({
    clusters: [{ ...west, hosts: hosts.map((h, i) => ({ ...h, address: `127.0.12.${101 + i}` })) }],
    loadBalancerAddressPrefix: '127.0.82',
    hostsBlockLabel,
  });
}

/** Shows a failed run's whole failure chain (it names the step and the host). */
export function explained(err: unknown): never {
  if (err instanceof WorkflowFailedError) throw new Error(`${err.message}: ${JSON.stringify(err.cause, null, 1)}`);
  throw err;
}

/**
 * Every run's history as the CLI shows it, each payload decoded with the worker's keys. A control value
 * planted in an encrypted payload (a run's input) must be found decoded and not without the keys:
 * only then can a clean scan vouch that no secret hides under the encryption.
 */
export async function decodedHistoriesWithControl(client: Client, target: CliTarget): Promise<RunHistory[]> {
  const control = `control-value-${randomBytes(12).toString('hex')}`;
  await client.workflow.start('ScanControl', {
    taskQueue: 'nobody-polls-scan-control',
    workflowId: `scan-control-${Date.now()}`,
    args: [{ planted: control }],
  });
  const histories = workflowHistories(target);
  const encrypted = histories.flatMap((h) => h.payloads).filter((p) => Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString() === 'binary/encrypted');
  assert.ok(encrypted.length > 20, `the histories hold encrypted payloads (${encrypted.length})`);
  const { codec } = kubehaDataConverter();
  for (const h of histories) h.texts.push(...(await decodedPayloadTexts(codec, h.payloads)));
  const planted = [{ label: 'control', value: control }];
  assert.equal(
    findSecrets(
      histories.map((h) => ({ source: h.workflowId, texts: h.texts })),
      planted,
    ).length,
    1,
    'the control value is found in the decoded payloads',
  );
  const raw = histories.map((h) => ({ source: h.workflowId, texts: h.payloads.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('latin1')) }));
  assert.equal(findSecrets(raw, planted).length, 0, 'and it is not readable without the keys');
  return histories;
}
