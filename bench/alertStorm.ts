/**
 * Alert storm: 10,000 deliveries of the same Alertmanager group, as fast as a pool of keep-alive
 * connections sends them (HA peers, retries and a flapping rule together). Checks what matters:
 * exactly one FailoverToEast execution, zero 5xx while Temporal is up, all within 10 s, and reports
 * the webhook's latency (median, p99, max) and how many signals reached the workflow's history.
 *
 * Usage: node .out/<dir>/bench/alertStorm.js [deliveries=10000] [connections=64] [dedupeSeconds=10]
 * (dedupeSeconds 0 makes every delivery a signal: the worst case for the workflow's history).
 */
import http from 'node:http';
import { notificationBody } from '../test/webhook/helpers';
import { post, quantile, startBenchStack } from './webhookStack';

/** What one storm measured. */
export interface StormReport {
  deliveries: number;
  connections: number;
  dedupeSeconds: number;
  seconds: number;
  perSecond: number;
  statuses: Record<string, number>;
  fiveXx: number;
  latencyMs: { p50: number; p99: number; max: number };
  executions: number;
  alertSignals: number;
  withinTenSeconds: boolean;
}

/** Runs one storm on a fresh stack. */
export async function alertStorm(deliveries = 10_000, connections = 64, dedupeSeconds = 10): Promise<StormReport> {
  const west = `storm${dedupeSeconds}`;
  const stack = await startBenchStack({ dedupeSeconds }, west);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  try {
    const body = JSON.stringify(notificationBody('firing'));
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < deliveries) {
          next++;
          const { status, ms } = await post(stack.url, body, stack.token, agent);
          latencies.push(ms);
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const workflowId = `failover-${west}-to-east`;
    const runs: unknown[] = [];
    for await (const run of stack.env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    const executions = runs.length;
    const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
    const alertSignals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'alert').length;
    await stack.env.client.workflow.getHandle(workflowId).terminate('benchmark over');
    const fiveXx = Object.entries(statuses)
      .filter(([s]) => Number(s) >= 500 || Number(s) === 0)
      .reduce((n, [, c]) => n + c, 0);
    return {
      deliveries,
      connections,
      dedupeSeconds,
      seconds,
      perSecond: Math.round(deliveries / seconds),
      statuses,
      fiveXx,
      latencyMs: { p50: round(quantile(latencies, 0.5)), p99: round(quantile(latencies, 0.99)), max: round(Math.max(...latencies)) },
      executions,
      alertSignals,
      withinTenSeconds: seconds < 10,
    };
  } finally {
    agent.destroy();
    await stack.stop();
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

if (require.main === module) {
  const [deliveries, connections, dedupe] = process.argv.slice(2).map(Number);
  alertStorm(deliveries || 10_000, connections || 64, Number.isFinite(dedupe) ? dedupe : 10).then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      const ok = report.executions === 1 && report.fiveXx === 0 && report.withinTenSeconds;
      if (!ok) process.exitCode = 1;
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
