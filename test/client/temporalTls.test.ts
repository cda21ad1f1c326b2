/**
 * kubeha against a secured Temporal: nginx (Debian's) terminates TLS in front of a dev server, proxies
 * gRPC to it over HTTP/2, and requires a client certificate from its CA. The CLI and the worker connect through it with the standard
 * TEMPORAL_TLS_* settings, or a temporal.toml profile; a client without a certificate, with one from
 * another CA, or that does not trust the server's CA is refused; the right profile works, and a run
 * started through the proxy is executed by a worker connected through it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { temporalConnectionOptions } from '../../client/connection';
import { startDevServer, type DevServer } from '../../client/devServer';
import { temporalSettings } from '../../lib/config';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { formatKeyList } from '../../lib/codec/keyring';
import { freePort } from '../../lib/freePort';
import { collect, OutputWatch, runCli, spawnCli } from './cliProcess';

const dir = mkdtempSync(path.join(tmpdir(), 'kubeha-temporal-tls-'));
const file = (name: string) => path.join(dir, name);
let server: DevServer;
let nginx: ChildProcess;
let proxy: string;
let keys: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A CA (`<name>-ca.pem`) and one certificate it signs (`<name>.pem`, `<name>-key.pem`). */
function issue(name: string, subject: string, extensions: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} CA`,
    '-keyout',
    file(`${name}-ca-key.pem`),
    '-out',
    file(`${name}-ca.pem`),
  );
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    subject,
    '-keyout',
    file(`${name}-key.pem`),
    '-out',
    file(`${name}.csr`),
  );
  writeFileSync(file(`${name}.ext`), extensions);
  openssl(
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file(`${name}-ca.pem`),
    '-CAkey',
    file(`${name}-ca-key.pem`),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file(`${name}.ext`),
    '-out',
    file(`${name}.pem`),
  );
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
async function waitListening(port: number, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  issue('server', '/CN=temporal.kubeha.test', 'subjectAltName=DNS:temporal.kubeha.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', '/CN=kubeha-worker', 'extendedKeyUsage=clientAuth\n');
  issue('stranger', '/CN=stranger', 'extendedKeyUsage=clientAuth\n');
  server = await startDevServer({ dataDir: dir, port: await freePort(), uiPort: await freePort(), logLevel: 'error' });
  const port = await freePort();
  proxy = `127.0.0.1:${port}`;
  mkdirSync(file('nginx'), { recursive: true });
  writeFileSync(
    file('nginx.conf'),
    `daemon off;
pid ${file('nginx/nginx.pid')};
error_log ${file('nginx/error.log')} warn;
events {}
http {
  access_log off;
  client_body_temp_path ${file('nginx/body')};
  server {
    listen ${proxy} ssl http2;
    ssl_certificate ${file('server.pem')};
    ssl_certificate_key ${file('server-key.pem')};
    # Client certificates are required and must chain to the client CA.
    ssl_client_certificate ${file('client-ca.pem')};
    ssl_verify_client on;
    location / {
      grpc_pass grpc://${server.address};
      # Temporal's task polls are long.
      grpc_read_timeout 300s;
      grpc_send_timeout 300s;
    }
  }
}
`,
  );
  nginx = spawn('nginx', ['-p', file('nginx'), '-c', file('nginx.conf'), '-e', file('nginx/error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitListening(port);
  keys = formatKeyList([kubehaDataConverter({ ...process.env, KUBEHA_DATA_DIR: dir }).keyring.encryptKey]);
});

after(async () => {
  nginx?.kill('SIGQUIT');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a kubeha process that reaches Temporal only through the TLS proxy. */
function tlsEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HOME: dir,
    TEMPORAL_CONFIG_FILE: file('absent.toml'),
    KUBEHA_DATA_DIR: dir,
    KUBEHA_CODEC_KEYS: keys,
    TEMPORAL_ADDRESS: proxy,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('server-ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal.kubeha.test',
    TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: file('client-key.pem'),
    ...overrides,
  };
}

describe('kubeha through a TLS proxy that requires client certificates', { timeout: 300_000 }, () => {
  test('the CLI with the CA and a client certificate reaches Temporal', async () => {
    const run = await runCli(['status', '--json'], tlsEnv());
    assert.equal(run.code, 0, run.stderr);
  });

  test('no client certificate, one from another CA, or a server CA it does not trust: refused', async () => {
    const refused = [
      tlsEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: undefined, TEMPORAL_TLS_CLIENT_KEY_PATH: undefined }),
      tlsEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('stranger.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: file('stranger-key.pem') }),
      tlsEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('stranger-ca.pem') }),
    ];
    for (const env of refused) {
      const run = await runCli(['status', '--json'], env, 90_000);
      assert.notEqual(run.code, 0, `expected a refusal: ${run.stdout}`);
      assert.match(run.stderr, /cannot reach Temporal|Temporal/i);
    }
    // Plain gRPC to the proxy is refused too.
    const plain = await runCli(
      ['status', '--json'],
      { HOME: dir, TEMPORAL_CONFIG_FILE: file('absent.toml'), KUBEHA_DATA_DIR: dir, KUBEHA_CODEC_KEYS: keys, TEMPORAL_ADDRESS: proxy },
      90_000,
    );
    assert.notEqual(plain.code, 0);
  });

  test('a temporal.toml profile works, and the worker connected through the proxy runs what the CLI starts', async () => {
    writeFileSync(
      file('temporal.toml'),
      `[profile.secured]\naddress = "${proxy}"\n[profile.secured.tls]\nserver_ca_cert_path = "${file('server-ca.pem')}"\nserver_name = "temporal.kubeha.test"\nclient_cert_path = "${file('client.pem')}"\nclient_key_path = "${file('client-key.pem')}"\n`,
    );
    const profile = {
      HOME: dir,
      TEMPORAL_CONFIG_FILE: file('temporal.toml'),
      TEMPORAL_PROFILE: 'secured',
      KUBEHA_DATA_DIR: dir,
      KUBEHA_CODEC_KEYS: keys,
      KUBEHA_TASK_QUEUE: 'tls-queue',
    };
    const worker = spawnCli(['worker'], profile);
    const ended = collect(worker, 200_000);
    try {
      await new OutputWatch(worker).waitFor(/worker polling task queue "tls-queue"/, 150_000);
      // A run started through the proxy fails in the workflow's own validation: proof that the worker
      // behind the proxy picked it up (no activity runs for a bad input).
      const connection = await Connection.connect(temporalConnectionOptions(temporalSettings(profile), profile));
      try {
        const client = new Client({ connection, dataConverter: kubehaDataConverter(profile).dataConverter });
        const handle = await client.workflow.start('BootstrapStackedEtcd', {
          args: [{ clusterName: 'tls' }],
          taskQueue: 'tls-queue',
          workflowId: `tls-${Date.now()}`,
        });
        await assert.rejects(
          handle.result(),
          (err: unknown) => err instanceof WorkflowFailedError && /invalid BootstrapStackedEtcd input/.test(String((err.cause as Error | undefined)?.message)),
        );
      } finally {
        await connection.close();
      }
    } finally {
      worker.kill('SIGTERM');
      await ended;
    }
  });
});
