/**
 * What the webhook tests share: a webhook server on a free port in front of a real Temporal (through
 * a TCP relay the test can cut, to play "Temporal down"), notification bodies as Alertmanager writes
 * them, and a small HTTP client.
 */
import http from 'node:http';
import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveConfig, type WebhookConfigFile } from '../../client/webhook/config';
import { startWebhookServer, type WebhookServer } from '../../client/webhook/server';
import { EAST, WEST } from '../failover/fakeFailoverWorld';

/** The bearer token the tests configure. */
export const TOKEN = 's3cret-token-for-tests';

/** A FailoverToEast input for the pair west → east, short windows. */
export function routeFailover(west = 'west', east = 'east') {
  return {
    west: { name: west, kubeconfigSecret: WEST },
    east: { name: east, kubeconfigSecret: EAST },
    services: [{ namespace: 'test', name: 'podinfo' }],
    steps: [50, 100],
    stepPauseSeconds: 0,
    failback: { hysteresisSeconds: 2, checkIntervalSeconds: 1, automatic: true },
    onFailure: 'fail',
  };
}

/** A configuration: Bearer auth from an env var, a failover route and an ignore route. */
export function webhookConfig(overrides: Partial<WebhookConfigFile> = {}, west = 'west'): WebhookConfigFile {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    auth: { bearerToken: { env: 'KUBEHA_TEST_WEBHOOK_TOKEN' } },
    dedupeSeconds: 10,
    routes: [
      { name: 'west-down', matchers: ['alertname="WestDown"', 'severity=~"critical|page"'], action: 'failover', failover: routeFailover(west) },
      { name: 'watchdog', matchers: ['alertname="Watchdog"'], action: 'ignore', reason: "the dead man's switch: nothing to do" },
    ],
    ...overrides,
  } as WebhookConfigFile;
}

/** The environment the configurations read their secrets from. */
export const TEST_ENV = { KUBEHA_TEST_WEBHOOK_TOKEN: TOKEN, KUBEHA_TEST_BASIC_PASSWORD: 'b4sic-pass' };

/** One alert as Alertmanager sends it. */
export function alert(
  status: 'firing' | 'resolved',
  labels: Record<string, string> = { alertname: 'WestDown', severity: 'critical', cluster: 'west' },
  fingerprint = 'a1b2c3d4e5f60718',
) {
  return {
    status,
    labels,
    annotations: { summary: 'west is down' },
    startsAt: '2025-06-01T10:00:00Z',
    endsAt: status === 'resolved' ? '2025-06-01T10:30:00Z' : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus/graph',
    fingerprint,
  };
}

/** A version 4 notification. */
export function notificationBody(status: 'firing' | 'resolved', alerts = [alert(status)]) {
  return {
    version: '4',
    groupKey: '{}/{severity=~"critical|page"}:{alertname="WestDown"}',
    truncatedAlerts: 0,
    status,
    receiver: 'kubeha',
    groupLabels: { alertname: 'WestDown' },
    commonLabels: alerts[0]?.labels ?? {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts,
  };
}

/** An HTTP answer. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => Record<string, unknown>;
}

/** Sends a request; `body` objects are JSON-encoded, strings and buffers sent as they are. */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: unknown; agent?: http.Agent } = {}): Promise<Reply> {
  const payload =
    options.body === undefined ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}), ...options.headers };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? (payload === undefined ? 'GET' : 'POST'), headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Bearer header for the test token. */
export const bearer = (token = TOKEN) => ({ Authorization: `Bearer ${token}` });

/** A TCP relay to Temporal that can be switched off (connections refused and cut) and on again. */
export class TcpRelay {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens (again) on the same port. */
  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Stops listening and cuts every relayed connection. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/** A webhook in front of `env`'s Temporal through a relay. */
export interface TestWebhook {
  server: WebhookServer;
  relay: TcpRelay;
  client: Client;
  taskQueue: string;
  url: string;
  close(): Promise<void>;
}

/** Starts a webhook with `config` whose Temporal client goes through a {@link TcpRelay}. */
export async function startTestWebhook(
  env: TestWorkflowEnvironment,
  config: WebhookConfigFile,
  taskQueue: string,
  temporalTimeoutMs = 2000,
): Promise<TestWebhook> {
  const [host, port] = (env.connection.options.address as string).split(':');
  const relay = new TcpRelay({ host, port: Number(port) });
  await relay.start();
  const connection = Connection.lazy({ address: `127.0.0.1:${relay.port}`, connectTimeout: 1000 });
  const client = new Client({ connection, namespace: env.namespace ?? 'default' });
  const resolved = await resolveConfig({ ...config, limits: { temporalTimeoutMs, ...(config.limits ?? {}) } }, TEST_ENV);
  const server = await startWebhookServer({ config: resolved, client, taskQueue });
  return {
    server,
    relay,
    client,
    taskQueue,
    url: `${server.url}/v1/alertmanager`,
    close: async () => {
      await server.close();
      await connection.close();
      await relay.stop();
    },
  };
}

/** How many executions (runs) exist with this workflow id. */
export async function executions(env: TestWorkflowEnvironment, workflowId: string): Promise<number> {
  const runs: unknown[] = [];
  for await (const run of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
  return runs.length;
}

/** How many `alert` signals the workflow's history holds. */
export async function alertSignals(env: TestWorkflowEnvironment, workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'alert').length;
}
