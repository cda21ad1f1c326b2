/**
 * `kubeha webhook`'s HTTP server (node:http): `POST /v1/alertmanager` receives Alertmanager's
 * notifications, `GET /healthz` says the process lives, `GET /readyz` whether Temporal answers,
 * `GET /metrics` serves Prometheus metrics.
 *
 * Answers follow Alertmanager's retry rules: 202 once Temporal accepted the work (durably recorded),
 * 200 when there is nothing to do (and why), 4xx for what a retry cannot fix (auth, body: never
 * retried), 503 only when Temporal cannot be reached (retried until the group interval).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { challenge, checkAuthorization } from './auth';
import type { WebhookConfig } from './config';
import { type DispatchResult, Dispatcher, planRoutes, TemporalUnavailableError } from './dispatch';
import { WebhookMetrics } from './metrics';
import { PayloadError, parseNotification, readBody } from './payload';

/** The path Alertmanager's `webhook_configs[].url` points at. */
export const ALERTMANAGER_PATH = '/v1/alertmanager';

/** What the server is built from. */
export interface WebhookServerOptions {
  config: WebhookConfig;
  client: Client;
  taskQueue: string;
  logger?: Logger;
}

/** A started webhook server. */
export interface WebhookServer {
  /** `http://host:port` it listens on (`https://` with TLS). */
  url: string;
  port: number;
  metrics: WebhookMetrics;
  /** Stops accepting, waits for requests in progress. */
  close(): Promise<void>;
}

interface Answer {
  status: number;
  outcome: string;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function send(res: http.ServerResponse, answer: Answer): void {
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(body), ...answer.headers });
  res.end(body);
}

/** Handles one notification; never throws (every failure is an answer). */
async function handleAlertmanager(req: http.IncomingMessage, options: WebhookServerOptions, dispatcher: Dispatcher): Promise<Answer> {
  const { config } = options;
  const auth = checkAuthorization(req.headers.authorization, config.auth);
  if (!auth.ok) {
    req.resume();
    return { status: 401, outcome: 'unauthorized', body: { error: auth.reason }, headers: { 'WWW-Authenticate': challenge(config.auth), Connection: 'close' } };
  }
  const type = req.headers['content-type'];
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    req.resume();
    return { status: 415, outcome: 'bad_request', body: { error: `content type ${type.slice(0, 80)} is not JSON` } };
  }
  const receivedAt = new Date();
  let results: DispatchResult[];
  let plan: ReturnType<typeof planRoutes>;
  try {
    const body = await readBody(req, config.limits.maxBodyBytes);
    const notification = parseNotification(body, config.limits);
    plan = planRoutes(notification, config.routes);
    results = await Promise.all(plan.failovers.map((f) => dispatcher.dispatch(notification, f.route, f.alerts, receivedAt)));
  } catch (err) {
    if (err instanceof PayloadError) {
      // Drain what the client still sends (bounded by the request timeout) so it can read the answer.
      req.resume();
      const headers: Record<string, string> | undefined = err.status === 413 ? { Connection: 'close' } : undefined;
      return { status: err.status, outcome: err.outcome, body: { error: err.message }, headers };
    }
    if (err instanceof TemporalUnavailableError) {
      options.logger?.warn({ err: err.message }, 'Temporal unavailable; answering 503 so that Alertmanager retries');
      return { status: 503, outcome: 'unavailable', body: { error: err.message }, headers: { 'Retry-After': '5' } };
    }
    options.logger?.error({ err: (err as Error).message }, 'webhook request failed');
    return { status: 500, outcome: 'error', body: { error: 'internal error; see the webhook log' } };
  }
  for (const r of results)
    options.logger?.info({ route: r.route, workflowId: r.workflowId, kind: r.kind, deduplicated: r.deduplicated, alerts: r.alerts }, 'alert dispatched');
  const ignored = plan.ignored.map((i) => ({ route: i.route, reason: i.reason, alerts: i.alerts }));
  const accepted = results.filter((r) => r.kind !== 'not_running' && r.kind !== 'already_handled');
  if (accepted.length === 0) {
    const reasons = [
      ...ignored.map((i) => `${i.alerts} alert(s) ignored by route ${i.route}: ${i.reason}`),
      ...results.map((r) =>
        r.kind === 'already_handled'
          ? `firing for ${r.workflowId} (route ${r.route}): these incidents were handled by run ${r.handledBy}, which has ended; no new failover`
          : `resolution for ${r.workflowId} (route ${r.route}): no failover is running`,
      ),
      ...(plan.unmatched ? [`${plan.unmatched} alert(s) match no route`] : []),
    ];
    return {
      status: 200,
      outcome: results.some((r) => r.kind === 'already_handled')
        ? 'already_handled'
        : results.length
          ? 'not_running'
          : plan.ignored.length
            ? 'ignored'
            : 'unmatched',
      body: { accepted: [], ignored, unmatched: plan.unmatched, reason: reasons.join('; ') },
    };
  }
  const outcome = accepted.every((r) => r.deduplicated) ? 'duplicate' : 'accepted';
  return {
    status: 202,
    outcome,
    body: {
      accepted: results.map((r) => ({ route: r.route, workflowId: r.workflowId, kind: r.kind, deduplicated: r.deduplicated })),
      ignored,
      unmatched: plan.unmatched,
    },
  };
}

/** Starts the server on `config.listen`. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const { config, client } = options;
  const metrics = new WebhookMetrics();
  const dispatcher = new Dispatcher({ client, taskQueue: options.taskQueue, timeoutMs: config.limits.temporalTimeoutMs, dedupeSeconds: config.dedupeSeconds });

  const handler: http.RequestListener = (req, res) => {
    const started = process.hrtime.bigint();
    const finish = (answer: Answer) => {
      send(res, answer);
      metrics.record(answer.outcome, Number(process.hrtime.bigint() - started) / 1e9);
    };
    const url = (req.url ?? '/').split('?')[0];
    if (url === ALERTMANAGER_PATH) {
      if (req.method !== 'POST') {
        req.resume();
        finish({ status: 405, outcome: 'method_not_allowed', body: { error: 'use POST' }, headers: { Allow: 'POST' } });
        return;
      }
      handleAlertmanager(req, options, dispatcher).then(
        (answer) => {
          for (const r of (answer.body.accepted as DispatchResult[] | undefined) ?? []) {
            metrics.dispatches.inc({ route: r.route, kind: r.deduplicated ? 'deduplicated' : r.kind });
          }
          if (answer.outcome === 'unavailable') metrics.dispatches.inc({ route: '*', kind: 'failed' });
          finish(answer);
        },
        (err: unknown) => finish({ status: 500, outcome: 'error', body: { error: String((err as Error)?.message ?? err).slice(0, 200) } }),
      );
      return;
    }
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    if (url === '/healthz') {
      send(res, { status: 200, outcome: 'health', body: { status: 'ok' } });
    } else if (url === '/readyz') {
      client.connection
        .withDeadline(Date.now() + 2000, () => client.workflowService.getSystemInfo({}))
        .then(
          () => send(res, { status: 200, outcome: 'ready', body: { status: 'ok', temporal: 'serving' } }),
          (err: unknown) =>
            send(res, { status: 503, outcome: 'ready', body: { status: 'unavailable', temporal: String((err as Error)?.message ?? err).slice(0, 200) } }),
        );
    } else if (url === '/metrics') {
      const text = metrics.render();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    } else {
      send(res, { status: 404, outcome: 'not_found', body: { error: `no such path; Alertmanager posts to ${ALERTMANAGER_PATH}` } });
    }
  };
  const tls = config.listen.tls;
  // With a client CA, the handshake itself refuses callers without a certificate it signed.
  const server: http.Server = tls
    ? https.createServer(
        {
          cert: tls.cert,
          key: tls.key,
          ca: tls.clientCa,
          requestCert: Boolean(tls.clientCa),
          rejectUnauthorized: Boolean(tls.clientCa),
          minVersion: 'TLSv1.2',
        },
        handler,
      )
    : http.createServer(handler);
  // Slow or stuck clients must not pile up: bounded header and request times, few headers.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  // Malformed requests are left to node's own 'clientError' handling: 400 (431 for oversized headers)
  // and close, or just close when this connection's answer already went out. A handler that always
  // wrote a 400 garbled that answer when the parser failed on bytes after it (a chunked body on a
  // GET the server had already refused with 405).

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
