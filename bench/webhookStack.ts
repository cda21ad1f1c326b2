/**
 * The stack the webhook benchmarks run on this machine: a Temporal dev server, a worker running
 * FailoverToEast with stub activities (the benchmarks measure the webhook and Temporal, not the
 * clusters), and the webhook server with Bearer auth, all in this process.
 */
import http from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { resolveConfig, type WebhookConfigFile } from '../client/webhook/config';
import { startWebhookServer, type WebhookServer } from '../client/webhook/server';
import { failoverWorker, FakeFailoverWorld } from '../test/failover/fakeFailoverWorld';
import { startTestTemporal } from '../test/support/temporal';
import { TEST_ENV, TOKEN, webhookConfig } from '../test/webhook/helpers';

/** A running stack. */
export interface BenchStack {
  env: TestWorkflowEnvironment;
  world: FakeFailoverWorld;
  worker: Worker;
  server: WebhookServer;
  url: string;
  token: string;
  stop(): Promise<void>;
}

/** Starts Temporal, the stub worker and the webhook (`overrides` change the webhook configuration). */
export async function startBenchStack(overrides: Partial<WebhookConfigFile> = {}, west = 'west'): Promise<BenchStack> {
  const env = await startTestTemporal();
  const world = new FakeFailoverWorld();
  const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
  const running = worker.run();
  const config = await resolveConfig(webhookConfig(overrides, west), TEST_ENV);
  const server = await startWebhookServer({ config, client: env.client, taskQueue });
  return {
    env,
    world,
    worker,
    server,
    url: `${server.url}/v1/alertmanager`,
    token: TOKEN,
    async stop() {
      await server.close();
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** One POST with a keep-alive agent; resolves with the status and the milliseconds it took. */
export function post(url: string, body: string, token: string, agent: http.Agent): Promise<{ status: number; ms: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    req.end(body);
  });
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
