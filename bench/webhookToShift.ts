/**
 * Webhook receipt to first traffic change: the time from POSTing a firing notification to the
 * first write to the split, over N failover/failback cycles (median and p99).
 *
 * Two modes:
 * - `stub` (default): everything in this process (Temporal dev server, webhook, FailoverToEast on a
 *   worker with stub activities); the first change is the stub's first setSplitWeights call. It
 *   measures kubeha's own path: HTTP, validation, signal-with-start, workflow tasks, precheck.
 * - `lab`: the lab's west/east pair (run as root, under `labslot`): lab up on the failover e2e
 *   addresses (west 127.0.11.101-106, east 127.0.21.101-102), both clusters bootstrapped by kubeha's
 *   real worker, the pair's files and LinkMeshClusters, `kubeha webhook`'s server in this process. The
 *   first change is the first modification of west's split (the HTTPRoute LinkMeshClusters wrote) as a watch on west's API
 *   delivers it; the path adds the real precheck reads (east gateway, east service, west mirror),
 *   the control-plane step's target health read and the patch, read-back and Event. Each cycle is a
 *   new incident (a new alert), followed by a forced failback (signal `failback`) and the run's end.
 *   The same cycles measure the Route 53 path side by side (bench/dnsShift.ts): to the weight change
 *   held by Route 53's API, and to the lab's DNS server answering east.
 *
 * Usage: node .out/<dir>/bench/webhookToShift.js [stub|lab] [cycles=20 (stub), 10 (lab)]
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { failoverToEastInputSchema, failoverWorkflowId } from '../common/inputs/failoverToEast';
import type { Progress } from '../common/progress';
import { LAB_FAILOVER_ALERT } from '../lab/orchestrator/inputs';
import { contextClient, preparePair, readSplit, startFailoverLab, startLabWebhook, watchSplit } from '../test/lab/e2e/failoverLab';
import { alert, notificationBody } from '../test/webhook/helpers';
import { dnsOnWest, watchDnsShift } from './dnsShift';
import { post, quantile, startBenchStack } from './webhookStack';

/** What the benchmark measured. */
export interface ShiftLatencyReport {
  mode: 'stub' | 'lab';
  cycles: number;
  msToFirstShift: { median: number; p99: number; min: number; max: number };
}

function firing(i: number, alertname = 'WestDown') {
  // A new alert each cycle (another startsAt and fingerprint), as a new incident would be.
  const a = {
    ...alert('firing', { alertname, severity: 'critical', cluster: 'west' }, `bench${i.toString(16).padStart(12, '0')}`),
    startsAt: new Date(Date.now() - 1000).toISOString(),
  };
  return { a, body: JSON.stringify(notificationBody('firing', [a])) };
}

function figures(samples: number[]): ShiftLatencyReport['msToFirstShift'] {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { median: r(quantile(samples, 0.5)), p99: r(quantile(samples, 0.99)), min: r(Math.min(...samples)), max: r(Math.max(...samples)) };
}

function report(mode: 'stub' | 'lab', samples: number[]): ShiftLatencyReport {
  return { mode, cycles: samples.length, msToFirstShift: figures(samples) };
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

/** What the lab mode adds: how long the pair took to come up. */
export interface LabShiftLatencyReport extends ShiftLatencyReport {
  /** The same cycles' Route 53 path: to the change held by the API (INSYNC), and to the lab DNS answering east. */
  dns: { msToInsync: ShiftLatencyReport['msToFirstShift']; msToAnswerEast: ShiftLatencyReport['msToFirstShift'] };
  setupMs: { labUp: number; bootstrapBoth: number; pairFilesAndLink: number };
  /** How often the split watch had to resume or relist, and why the last time. */
  watch?: { restarts: number; lastError?: string };
}

/** On the lab's west/east pair (see the header). */
export async function labShiftLatency(cycles: number): Promise<LabShiftLatencyReport> {
  let t = Date.now();
  const lab = await startFailoverLab({ label: `failover-bench-${process.pid}`, taskQueue: 'kubeha-lab-bench-shift' });
  const setupMs = { labUp: Date.now() - t, bootstrapBoth: 0, pairFilesAndLink: 0 };
  const agent = new http.Agent({ keepAlive: true });
  let watch: Awaited<ReturnType<typeof watchSplit>> | undefined;
  let webhook: Awaited<ReturnType<typeof startLabWebhook>> | undefined;
  const samples: number[] = [];
  const insyncSamples: number[] = [];
  const answerSamples: number[] = [];
  try {
    t = Date.now();
    await Promise.all([lab.bootstrap('west'), lab.bootstrap('east')]);
    setupMs.bootstrapBoth = Date.now() - t;
    t = Date.now();
    const files = await preparePair(lab, 5);
    await lab.link(files.linkInput, 'bench-link-mesh');
    setupMs.pairFilesAndLink = Date.now() - t;
    webhook = await startLabWebhook(lab, files);
    const changes: Array<{ east: number; at: number }> = [];
    watch = await watchSplit(files, (east, at) => changes.push({ east, at }));
    const west = contextClient(files, 'west');
    const handle = lab.client.workflow.getHandle(failoverWorkflowId('west', 'east'));
    const input = failoverToEastInputSchema.parse(JSON.parse(readFileSync(files.failoverInput, 'utf8')));
    const record = input.services[0].gtm!;
    const dnsTarget = { dns: lab.lab.state.aws!.dns!, endpoint: input.route53.endpoint!, record, eastAddress: files.greeters.east.address };
    for (let i = 0; i < cycles; i++) {
      if ((await readSplit(west)).east !== 0) throw new Error(`cycle ${i}: the split does not start at west`);
      if (!(await dnsOnWest(dnsTarget))) throw new Error(`cycle ${i}: the DNS weights do not start at west`);
      const seen = changes.length;
      const { body } = firing(Date.now() + i, LAB_FAILOVER_ALERT.alertname);
      const sent = performance.now();
      const dnsShift = watchDnsShift(dnsTarget);
      const { status } = await post(webhook.url, body, webhook.token, agent);
      if (status !== 202) throw new Error(`webhook answered ${status}`);
      const deadline = Date.now() + 120_000;
      while (!changes.slice(seen).some((c) => c.east > 0)) {
        if (Date.now() > deadline) {
          // Say which part failed: the split itself moved (the watch missed it) or it never moved (the run did not shift).
          const now = await readSplit(west);
          const progress = await handle.query<Progress>('progress').catch((err: unknown) => `(no progress: ${(err as Error).message})`);
          const where =
            now.east > 0
              ? `west's split is at east ${now.east} but the watch delivered no change (${JSON.stringify(watch.record)})`
              : `west's split never moved; the run: ${JSON.stringify(progress)}`;
          throw new Error(`cycle ${i}: no traffic change within 120 s: ${where}`);
        }
        await sleep(5);
      }
      samples.push(changes.slice(seen).find((c) => c.east > 0)!.at - sent);
      const dnsTimes = await dnsShift;
      insyncSamples.push(dnsTimes.insyncAt - sent);
      answerSamples.push(dnsTimes.answerAt - sent);
      // Force the way back at once (the run moves through its steps, then fails back) and wait for its end.
      await handle.signal('failback', { by: 'benchmark' });
      await handle.result();
      if ((await readSplit(west)).east !== 0) throw new Error(`cycle ${i}: the forced failback left traffic on east`);
      if (!(await dnsOnWest(dnsTarget))) throw new Error(`cycle ${i}: the forced failback left DNS weight on east`);
    }
  } finally {
    watch?.stop();
    agent.destroy();
    await webhook?.close();
    await lab.stop();
  }
  return {
    ...report('lab', samples),
    dns: { msToInsync: figures(insyncSamples), msToAnswerEast: figures(answerSamples) },
    setupMs,
    ...(watch ? { watch: { restarts: watch.record.restarts, ...(watch.record.lastError ? { lastError: watch.record.lastError } : {}) } } : {}),
  };
}

if (require.main === module) {
  const mode = process.argv[2] === 'lab' ? 'lab' : 'stub';
  const cycles = Number(process.argv[3]) || (mode === 'lab' ? 10 : 20);
  (mode === 'lab' ? labShiftLatency(cycles) : stubShiftLatency(cycles)).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
