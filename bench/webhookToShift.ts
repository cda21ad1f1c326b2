/**
 * Webhook receipt to first traffic change: the time from POSTing a firing notification to the
 * first write to the split, over N failover/failback cycles (median and p99).
 *
 * Two modes:
 * - `stub` (default): everything in this process (Temporal dev server, webhook, FailoverToEast on a
 *   worker with stub activities); the first change is the stub's first setSplitWeights call. It
 *   measures kubeha's own path: HTTP, validation, signal-with-start, workflow tasks, precheck.
 * - `lab`: a running kubeha (webhook + worker) in front of the lab's clusters; the first change is
 *   observed on west's split object through the API (polled every 50 ms). Configured by environment:
 *   KUBEHA_BENCH_WEBHOOK_URL (…/v1/alertmanager), KUBEHA_BENCH_TOKEN_FILE (the Bearer token),
 *   KUBEHA_BENCH_WEST_KUBECONFIG (secret name in KUBEHA_DATA_DIR's store), KUBEHA_BENCH_SPLIT
 *   (`namespace/name` of the TrafficSplit, backends `<name>` and `<name>-east` unless
 *   KUBEHA_BENCH_EAST_BACKEND is set), KUBEHA_BENCH_ALERT (the alertname the webhook routes,
 *   default WestDown). Each cycle then posts the resolution and waits for the failback (the route's
 *   hysteresis window should be short for a benchmark).
 *
 * Usage: node .out/<dir>/bench/webhookToShift.js [stub|lab] [cycles=20]
 */
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFailoverActivities } from '../activities/failover';
import type { SplitRef } from '../activities/failover/types';
import { FileSecretStore } from '../activities/secrets/store';
import { dataDir } from '../lib/paths';
import { alert, notificationBody } from '../test/webhook/helpers';
import { post, quantile, startBenchStack } from './webhookStack';

/** What the benchmark measured. */
export interface ShiftLatencyReport {
  mode: 'stub' | 'lab';
  cycles: number;
  msToFirstShift: { median: number; p99: number; min: number; max: number };
}

function firing(i: number, alertname = 'WestDown') {
  // A new alert each cycle (another startsAt and fingerprint), as a new incident would be.
  const a = { ...alert('firing', { alertname, severity: 'critical', cluster: 'west' }, `bench${i.toString(16).padStart(12, '0')}`), startsAt: new Date(Date.now() - 1000).toISOString() };
  return { a, body: JSON.stringify(notificationBody('firing', [a])) };
}

function report(mode: 'stub' | 'lab', samples: number[]): ShiftLatencyReport {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { mode, cycles: samples.length, msToFirstShift: { median: r(quantile(samples, 0.5)), p99: r(quantile(samples, 0.99)), min: r(Math.min(...samples)), max: r(Math.max(...samples)) } };
}

/** In-process stack with stub activities. */
export async function stubShiftLatency(cycles: number): Promise<ShiftLatencyReport> {
  const stack = await startBenchStack({ dedupeSeconds: 0 }, 'westbench');
  const agent = new http.Agent({ keepAlive: true });
  const samples: number[] = [];
  try {
    const handle = stack.env.client.workflow.getHandle('failover-westbench-to-east');
    for (let i = 0; i < cycles; i++) {
      const before = stack.world.shiftTimes.length;
      const sent = performance.now();
      const { status } = await post(stack.url, firing(i).body, stack.token, agent);
      if (status !== 202) throw new Error(`webhook answered ${status}`);
      while (stack.world.shiftTimes.length === before) await sleep(1);
      samples.push(stack.world.shiftTimes[before] - sent);
      // Next cycle starts from west again: force the failback and wait for the run to end.
      await handle.signal('failback', { by: 'benchmark' });
      await handle.result();
    }
  } finally {
    agent.destroy();
    await stack.stop();
  }
  return report('stub', samples);
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see the header of bench/webhookToShift.ts)`);
  return value;
}

/** Against a running kubeha and the lab's west cluster. */
export async function labShiftLatency(cycles: number): Promise<ShiftLatencyReport> {
  const url = required('KUBEHA_BENCH_WEBHOOK_URL');
  const token = (await readFile(required('KUBEHA_BENCH_TOKEN_FILE'), 'utf8')).trim();
  const [namespace, name] = required('KUBEHA_BENCH_SPLIT').split('/');
  const split: SplitRef = {
    kubeconfigSecret: required('KUBEHA_BENCH_WEST_KUBECONFIG'),
    kind: 'TrafficSplit',
    apiVersion: 'split.smi-spec.io/v1alpha1',
    namespace,
    name,
    westBackend: name,
    eastBackend: process.env.KUBEHA_BENCH_EAST_BACKEND ?? `${name}-east`,
  };
  const activities = createFailoverActivities({ secrets: new FileSecretStore(path.join(dataDir(), 'secrets')) });
  const alertname = process.env.KUBEHA_BENCH_ALERT ?? 'WestDown';
  const agent = new http.Agent({ keepAlive: true });
  const samples: number[] = [];
  const until = async (done: (percent: number) => boolean, timeoutMs: number, what: string) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (done((await activities.readSplit(split)).eastPercent)) return performance.now();
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };
  try {
    for (let i = 0; i < cycles; i++) {
      await until((p) => p === 0, 60_000, 'the split to start at west');
      const { a, body } = firing(Date.now() + i, alertname);
      const sent = performance.now();
      const { status } = await post(url, body, token, agent);
      if (status !== 202) throw new Error(`webhook answered ${status}`);
      samples.push((await until((p) => p > 0, 120_000, 'the first shift')) - sent);
      const resolved = { ...a, status: 'resolved' as const, endsAt: new Date().toISOString() };
      await post(url, JSON.stringify(notificationBody('resolved', [resolved])), token, agent);
      await until((p) => p === 0, 15 * 60_000, 'the failback');
    }
  } finally {
    agent.destroy();
  }
  return report('lab', samples);
}

if (require.main === module) {
  const mode = process.argv[2] === 'lab' ? 'lab' : 'stub';
  const cycles = Number(process.argv[3]) || 20;
  (mode === 'lab' ? labShiftLatency(cycles) : stubShiftLatency(cycles)).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
