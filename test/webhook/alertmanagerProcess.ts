/**
 * A real Prometheus Alertmanager (Debian's prometheus-alertmanager) for tests: its own config and
 * storage in a temp directory, clustering off, on a free port of 127.0.0.1; stopped by `stop()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { freePort } from '../../lib/freePort';

/** Where Debian installs it. */
export const ALERTMANAGER_BINARY = process.env.ALERTMANAGER_PATH ?? '/usr/bin/prometheus-alertmanager';

/** A running Alertmanager. */
export interface TestAlertmanager {
  url: string;
  /** Posts alerts to `/api/v2/alerts` (what Prometheus does). */
  postAlerts(alerts: unknown[]): Promise<void>;
  /** Its log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** What the Alertmanager routes to: kubeha's webhook with Bearer credentials from a file. */
export interface AlertmanagerSetup {
  webhookUrl: string;
  bearerToken: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** Alertmanager's `http_config.tls_config` for an HTTPS webhook: the CA to trust, and a client certificate. */
  tls?: { caFile: string; certFile?: string; keyFile?: string };
}

function tlsConfig(tls: NonNullable<AlertmanagerSetup['tls']>): Record<string, string> {
  return { ca_file: tls.caFile, ...(tls.certFile ? { cert_file: tls.certFile } : {}), ...(tls.keyFile ? { key_file: tls.keyFile } : {}) };
}

/** Starts Alertmanager with one route to the webhook. */
export async function startAlertmanager(setup: AlertmanagerSetup): Promise<TestAlertmanager> {
  if (!existsSync(ALERTMANAGER_BINARY)) throw new Error(`${ALERTMANAGER_BINARY} is missing: apt-get install prometheus-alertmanager (scripts/setup.sh)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-alertmanager-'));
  const tokenFile = path.join(dir, 'webhook-token');
  await writeFile(tokenFile, setup.bearerToken, { mode: 0o600 });
  const config = {
    route: {
      receiver: 'kubeha',
      group_by: ['alertname'],
      group_wait: setup.groupWait ?? '100ms',
      group_interval: setup.groupInterval ?? '1s',
      repeat_interval: setup.repeatInterval ?? '2s',
    },
    receivers: [
      {
        name: 'kubeha',
        webhook_configs: [
          {
            url: setup.webhookUrl,
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile }, ...(setup.tls ? { tls_config: tlsConfig(setup.tls) } : {}) },
          },
        ],
      },
    ],
  };
  const configFile = path.join(dir, 'alertmanager.yml');
  await writeFile(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    ALERTMANAGER_BINARY,
    [
      `--config.file=${configFile}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`alertmanager exited: ${output.slice(-2000)}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager not ready after 20 s: ${output.slice(-2000)}`);
    }
    await sleep(100);
  }

  return {
    url,
    async postAlerts(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!res.ok) throw new Error(`POST /api/v2/alerts: HTTP ${res.status} ${await res.text()}`);
    },
    log: () => output,
    stop,
  };
}
