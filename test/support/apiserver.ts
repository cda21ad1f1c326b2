/**
 * A real Kubernetes API server for tests and the lab: Debian's etcd plus a kube-apiserver built from
 * the Go module proxy by lab/build/build-kube.sh, both on 127.0.0.1 with free ports, a PKI made at
 * start with the openssl CLI, and an admin kubeconfig (client certificate in system:masters).
 *
 * There are no controllers and no kubelets: {@link markRolledOut}, {@link setWorkloadStatus},
 * {@link registerNode} and {@link setNodeReady} play their part through the API.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { projectRoot } from '../../lib/paths';
import { freePort } from '../../lib/freePort';

const run = promisify(execFile);
const BUILD_SCRIPT = path.join(projectRoot, 'lab', 'build', 'build-kube.sh');

/** Options of {@link startTestApiServer}. */
export interface TestApiServerOptions {
  /** The kube-apiserver binary. Default: $KUBE_APISERVER_PATH, else the build cache (built on first use). */
  apiServerBinary?: string;
  /** The etcd binary. Default: $ETCD_PATH, else /usr/bin/etcd (Debian etcd-server). */
  etcdBinary?: string;
  /** How long to wait for /readyz. Default 120 s (the first start on a busy 2-core machine is slow). */
  readyTimeoutMs?: number;
  /** Bearer tokens the API server accepts (its `--token-auth-file`). Default: none. */
  staticTokens?: StaticToken[];
}

/** A bearer token of the API server's static token file, and who it authenticates. */
export interface StaticToken {
  token: string;
  user: string;
  /** E.g. `system:masters` for an admin. */
  groups?: string[];
}

/** A running etcd + kube-apiserver pair. */
export interface TestApiServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** The admin kubeconfig (embedded CA, client certificate and key). */
  kubeconfig: string;
  /** Where {@link kubeconfig} is written (mode 0600), inside the temp directory. */
  kubeconfigPath: string;
  /** The temp directory holding PKI, etcd data and logs; removed by {@link stop}. */
  dir: string;
  /** A kubeconfig for another user, with a client certificate signed by the test CA (RBAC applies to it). */
  kubeconfigFor(user: string, groups?: string[]): Promise<string>;
  /** A kubeconfig for this server and CA whose user entry is `user` as given (token, tokenFile, exec...). */
  kubeconfigWithUser(user: Record<string, unknown>): string;
  /** A client certificate and key (PEM) signed by the test CA, e.g. for an exec plugin to hand out. */
  clientCertificate(user: string, groups?: string[]): Promise<{ cert: string; key: string }>;
  /** A raw admin request: JSON in, parsed JSON (or text) out, whatever the status. */
  request<T = unknown>(method: string, apiPath: string, body?: unknown, contentType?: string): Promise<{ status: number; body: T }>;
  /** Stops the API server and etcd and removes the temp directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Workload kinds the status helpers know. */
export type WorkloadKind = 'Deployment' | 'DaemonSet' | 'StatefulSet';

/** Identifies one workload. */
export interface WorkloadId {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

// ------------------------------------------------------------------------------------------ binaries

/** The build cache's bin directory for the version lab/build/kube/go.mod pins. */
export async function kubeBinDir(): Promise<string> {
  const { stdout } = await run('bash', [BUILD_SCRIPT], { env: { ...process.env, KUBE_PRINT_BIN_DIR: '1' } });
  return stdout.trim();
}

/**
 * The kube-apiserver binary, built by lab/build/build-kube.sh when it is not in the cache yet (a fresh
 * clone's first test run: several minutes, once).
 */
export async function kubeApiServerBinary(): Promise<string> {
  if (process.env.KUBE_APISERVER_PATH) return path.resolve(process.env.KUBE_APISERVER_PATH);
  const binary = path.join(await kubeBinDir(), 'kube-apiserver');
  if (existsSync(binary)) return binary;
  process.stderr.write(`kube-apiserver is not built yet: running ${BUILD_SCRIPT} (several minutes the first time)\n`);
  await new Promise<void>((resolve, reject) => {
    // Output goes to stderr so that a long first build shows its progress in the test log.
    const child = spawn('bash', [BUILD_SCRIPT, 'kube-apiserver'], { stdio: ['ignore', process.stderr, process.stderr] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${BUILD_SCRIPT} exited with ${code}`))));
  });
  return binary;
}

// ------------------------------------------------------------------------------------------ PKI

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || (err as Error).message}`);
  }
}

const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Issues `<name>.crt`/`<name>.key` signed by `ca.crt`; `extensions` go into an openssl extfile. */
async function issueCert(dir: string, name: string, subject: string, extensions: string[]): Promise<{ cert: string; key: string }> {
  await openssl(['req', '-new', ...NEW_EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  await writeFile(path.join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256',
      '-extfile', `${name}.ext`, '-out', `${name}.crt`],
    dir,
  );
  return { cert: await readFile(path.join(dir, `${name}.crt`), 'utf8'), key: await readFile(path.join(dir, `${name}.key`), 'utf8') };
}

/** CA, serving certificate for 127.0.0.1/localhost, service-account key pair. */
async function createPki(dir: string): Promise<void> {
  await openssl(
    ['req', '-x509', ...NEW_EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=kubeha-test-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
    dir,
  );
  await issueCert(dir, 'apiserver', '/CN=kube-apiserver', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
  ]);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

function clientCertFor(dir: string, user: string, groups: string[]): Promise<{ cert: string; key: string }> {
  const fileName = `client-${user.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  const subject = `/CN=${user}${groups.map((group) => `/O=${group}`).join('')}`;
  return issueCert(dir, fileName, subject, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth']);
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

function kubeconfigWithUserEntry(server: string, caPem: string, user: string, entry: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubeha-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user, user: entry }],
    contexts: [{ name: `${user}@kubeha-test`, context: { cluster: 'kubeha-test', user } }],
    'current-context': `${user}@kubeha-test`,
  });
}

function kubeconfigYaml(server: string, caPem: string, user: string, client: { cert: string; key: string }): string {
  return kubeconfigWithUserEntry(server, caPem, user, { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) });
}

/** The `--token-auth-file` format: `token,user,uid,"group1,group2"`. */
function tokenFileCsv(tokens: StaticToken[]): string {
  return tokens.map((t) => `${t.token},${t.user},${t.user},"${(t.groups ?? []).join(',')}"\n`).join('');
}

// ------------------------------------------------------------------------------------------ processes

interface Peer {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
}

function startPeer(name: string, binary: string, args: string[], logFile: string): Peer {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return { name, child, logFile, exited };
}

function running(peer: Peer): boolean {
  return peer.child.exitCode === null && peer.child.signalCode === null && peer.child.pid !== undefined;
}

async function stopPeer(peer: Peer): Promise<void> {
  if (!running(peer)) return;
  peer.child.kill('SIGTERM');
  const stopped = await Promise.race([peer.exited.then(() => true), sleep(15_000, false, { ref: false })]);
  if (!stopped) {
    peer.child.kill('SIGKILL');
    await peer.exited;
  }
}

async function logTail(peer: Peer, lines = 30): Promise<string> {
  const text = await readFile(peer.logFile, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

function httpsRequest(
  url: URL,
  tls: { ca: string; cert?: string; key?: string },
  method: string,
  body?: string,
  contentType?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ...tls,
        timeout: 10_000,
        headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': contentType ?? 'application/json' } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts etcd and kube-apiserver and waits until /readyz answers 200. Always call `stop()` in `after`. */
export async function startTestApiServer(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const apiServerBinary = options.apiServerBinary ?? (await kubeApiServerBinary());
  const etcdBinary = options.etcdBinary ?? process.env.ETCD_PATH ?? '/usr/bin/etcd';
  // etcd fsyncs on every write: tmpfs keeps the tests fast when the machine has one.
  const tmpRoot = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dir = await mkdtemp(path.join(tmpRoot, 'kubeha-apiserver-'));
  const peers: Peer[] = [];
  // If the test process exits without calling stop(), leave neither the peers nor their files behind.
  const killOnExit = () => {
    peers.forEach((peer) => running(peer) && peer.child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    for (const peer of [...peers].reverse()) await stopPeer(peer);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await createPki(dir);
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = startPeer('etcd', etcdBinary, [
      '--name=kubeha-test', `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${clientUrl}`, `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=kubeha-test=${peerUrl}`, '--initial-cluster-state=new',
      '--logger=zap', '--log-outputs=stderr', '--log-level=warn',
    ], path.join(dir, 'etcd.log'));
    peers.push(etcd);

    const at = (file: string) => path.join(dir, file);
    const tokenArgs: string[] = [];
    if (options.staticTokens?.length) {
      await writeFile(at('tokens.csv'), tokenFileCsv(options.staticTokens), { mode: 0o600 });
      tokenArgs.push(`--token-auth-file=${at('tokens.csv')}`);
    }
    const apiServer = startPeer('kube-apiserver', apiServerBinary, [
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${securePort}`,
      // The kubernetes Service endpoint reconciler refuses loopback addresses; nothing here needs it.
      '--endpoint-reconciler-type=none',
      `--etcd-servers=${clientUrl}`,
      `--cert-dir=${at('certs')}`, `--tls-cert-file=${at('apiserver.crt')}`, `--tls-private-key-file=${at('apiserver.key')}`,
      `--client-ca-file=${at('ca.crt')}`,
      '--service-cluster-ip-range=10.96.0.0/12',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${at('sa.pub')}`, `--service-account-signing-key-file=${at('sa.key')}`,
      // RBAC as on a kubeadm cluster: system:masters may do anything, other users get 403s tests can provoke.
      '--authorization-mode=RBAC',
      // Real manifests (CNI DaemonSets) carry privileged containers; kubeadm allows them too.
      '--allow-privileged=true',
      '--profiling=false', '--v=0',
      ...tokenArgs,
    ], at('apiserver.log'));
    peers.push(apiServer);

    const url = `https://127.0.0.1:${securePort}`;
    const caPem = await readFile(at('ca.crt'), 'utf8');
    const admin = await clientCertFor(dir, 'kubeha-test-admin', ['system:masters']);
    const tls = { ca: caPem, cert: admin.cert, key: admin.key };

    const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
    let last = 'no answer yet';
    for (;;) {
      for (const peer of peers) {
        if (!running(peer)) throw new Error(`${peer.name} exited during start-up:\n${await logTail(peer)}`);
      }
      try {
        const res = await httpsRequest(new URL('/readyz', url), tls, 'GET');
        if (res.status === 200) break;
        last = `HTTP ${res.status}: ${res.text.slice(0, 500)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready at ${url}/readyz: ${last}\n${await logTail(apiServer)}`);
      await sleep(300);
    }

    const kubeconfig = kubeconfigYaml(url, caPem, 'kubeha-test-admin', admin);
    const kubeconfigPath = at('admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });

    return {
      url,
      kubeconfig,
      kubeconfigPath,
      dir,
      kubeconfigFor: async (user, groups = []) => kubeconfigYaml(url, caPem, user, await clientCertFor(dir, user, groups)),
      kubeconfigWithUser: (user) => kubeconfigWithUserEntry(url, caPem, 'kubeha-test-user', user),
      clientCertificate: (user, groups = []) => clientCertFor(dir, user, groups),
      request: async <T>(method: string, apiPath: string, body?: unknown, contentType?: string) => {
        const res = await httpsRequest(new URL(apiPath, url), tls, method, body === undefined ? undefined : JSON.stringify(body), contentType);
        let parsed: unknown = res.text;
        try {
          parsed = JSON.parse(res.text);
        } catch {
          // not JSON (e.g. /readyz): keep the text
        }
        return { status: res.status, body: parsed as T };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ------------------------------------------------------------------------------------------ controller and kubelet stand-ins

const WORKLOAD_RESOURCE: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  DaemonSet: 'daemonsets',
  StatefulSet: 'statefulsets',
};

function workloadPath(ref: WorkloadId): string {
  return `/apis/apps/v1/namespaces/${ref.namespace}/${WORKLOAD_RESOURCE[ref.kind]}/${ref.name}`;
}

function expectOk(what: string, res: { status: number; body: unknown }): void {
  if (res.status < 200 || res.status > 299) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
}

/** Replaces a workload's status (merge patch of the status subresource), as its controller would. */
export async function setWorkloadStatus(api: TestApiServer, ref: WorkloadId, status: Record<string, unknown>): Promise<void> {
  const res = await api.request('PATCH', `${workloadPath(ref)}/status`, { status }, 'application/merge-patch+json');
  expectOk(`status of ${ref.kind} ${ref.namespace}/${ref.name}`, res);
}

/**
 * Writes the status a finished rollout has: observedGeneration = generation and every count equal to
 * the desired replicas (`spec.replicas`, default 1; for a DaemonSet `desired`, default 1).
 */
export async function markRolledOut(api: TestApiServer, ref: WorkloadId, desired = 1): Promise<void> {
  const res = await api.request<{ metadata: { generation: number }; spec: { replicas?: number } }>('GET', workloadPath(ref));
  expectOk(`read ${ref.kind} ${ref.namespace}/${ref.name}`, res);
  const generation = res.body.metadata.generation;
  const replicas = res.body.spec.replicas ?? 1;
  const statusByKind: Record<WorkloadKind, Record<string, unknown>> = {
    Deployment: { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
    StatefulSet: {
      observedGeneration: generation, replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas,
      availableReplicas: replicas, currentRevision: `${ref.name}-1`, updateRevision: `${ref.name}-1`,
    },
    DaemonSet: {
      observedGeneration: generation, desiredNumberScheduled: desired, currentNumberScheduled: desired, numberMisscheduled: 0,
      numberReady: desired, updatedNumberScheduled: desired, numberAvailable: desired,
    },
  };
  await setWorkloadStatus(api, ref, statusByKind[ref.kind]);
}

/** What a stand-in kubelet reports for its node. */
export interface NodeOptions {
  ready?: boolean;
  controlPlane?: boolean;
  kubeletVersion?: string;
  /** Reason of the Ready condition. Default KubeletReady / KubeletNotReady. */
  reason?: string;
}

/** Registers a Node (as a kubelet would) and sets its Ready condition. Registering again only updates status. */
export async function registerNode(api: TestApiServer, name: string, options: NodeOptions = {}): Promise<void> {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' };
  if (options.controlPlane) labels['node-role.kubernetes.io/control-plane'] = '';
  const res = await api.request('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
  if (res.status !== 409) expectOk(`create node ${name}`, res);
  await setNodeReady(api, name, options.ready ?? true, options);
}

/** Sets a Node's Ready condition (and kubelet version), as its kubelet's status updates would. */
export async function setNodeReady(api: TestApiServer, name: string, ready: boolean, options: NodeOptions = {}): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const kubeletVersion = options.kubeletVersion ?? 'v1.37.2';
  const status = {
    conditions: [{
      type: 'Ready',
      status: ready ? 'True' : 'False',
      reason: options.reason ?? (ready ? 'KubeletReady' : 'KubeletNotReady'),
      message: ready ? 'kubelet is posting ready status' : 'container runtime network not ready',
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    }],
    nodeInfo: {
      machineID: name, systemUUID: name, bootID: name, kernelVersion: os.release(), osImage: 'Debian GNU/Linux',
      containerRuntimeVersion: 'containerd://2.0.0', kubeletVersion, kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64',
    },
  };
  const res = await api.request('PATCH', `/api/v1/nodes/${name}/status`, { status }, 'application/merge-patch+json');
  expectOk(`status of node ${name}`, res);
}
