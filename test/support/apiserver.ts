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
import { projectRoot } from '../../lib/paths';
import { freePort } from '../../lib/freePort';
import { clientCertFor, createPki, kubeconfigWithUserEntry, kubeconfigYaml, tokenFileCsv } from './apiserverPki';

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
    const etcd = startPeer(
      'etcd',
      etcdBinary,
      [
        '--name=kubeha-test',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=kubeha-test=${peerUrl}`,
        '--initial-cluster-state=new',
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=warn',
      ],
      path.join(dir, 'etcd.log'),
    );
    peers.push(etcd);

    const at = (file: string) => path.join(dir, file);
    const tokenArgs: string[] = [];
    if (options.staticTokens?.length) {
      await writeFile(at('tokens.csv'), tokenFileCsv(options.staticTokens), { mode: 0o600 });
      tokenArgs.push(`--token-auth-file=${at('tokens.csv')}`);
    }
    const apiServer = startPeer(
      'kube-apiserver',
      apiServerBinary,
      [
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        // The kubernetes Service endpoint reconciler refuses loopback addresses; nothing here needs it.
        '--endpoint-reconciler-type=none',
        `--etcd-servers=${clientUrl}`,
        `--cert-dir=${at('certs')}`,
        `--tls-cert-file=${at('apiserver.crt')}`,
        `--tls-private-key-file=${at('apiserver.key')}`,
        `--client-ca-file=${at('ca.crt')}`,
        '--service-cluster-ip-range=10.96.0.0/12',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${at('sa.pub')}`,
        `--service-account-signing-key-file=${at('sa.key')}`,
        // RBAC as on a kubeadm cluster: system:masters may do anything, other users get 403s tests can provoke.
        '--authorization-mode=RBAC',
        // Real manifests (CNI DaemonSets) carry privileged containers; kubeadm allows them too.
        '--allow-privileged=true',
        '--profiling=false',
        '--v=0',
        ...tokenArgs,
      ],
      at('apiserver.log'),
    );
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

export { type WorkloadId, type WorkloadKind } from './clusterState';
export { markRolledOut, registerNode, setNodeReady, setWorkloadStatus, type NodeOptions } from './clusterState';
