/**
 * LinkMeshClusters' wall time on a west/east pair of real API servers (test/lab/mesh/support/meshPair.ts,
 * the lab linkerd CLI, kubeha's real activities in a worker child on a file-backed dev server) against
 * its activities' own durations, read from the run's history (ActivityTaskStarted → Completed). The
 * activities of both clusters run at once, so their sum can pass the wall time: the busy time (when at
 * least one activity ran) is printed too, and the orchestration overhead against each. Each round runs
 * on a fresh pair. Figures only.
 *
 * Usage: node dist/bench/linkMesh.js [rounds]   (default 3)
 */
import type { WorkflowHandle } from '@temporalio/client';
import { openCampaign } from '../test/chaos/crash/campaign';
import { openMeshArena, startLinkMesh } from '../test/chaos/crash/meshPoint';
import { outcome } from '../test/chaos/crash/pointKit';

type Time = { seconds?: unknown; nanos?: number | null } | null | undefined;
const ms = (t: Time) => (t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0);

/** What one run's history says. */
interface RunFigures {
  wallMs: number;
  activitySumMs: number;
  busyMs: number;
  activities: number;
  /** Summed duration per activity type. */
  byType: Map<string, number>;
}

/** Reads the run's figures from its history. */
async function figuresOf(handle: WorkflowHandle): Promise<RunFigures> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  const startedAt = new Map<string, number>();
  const spans: Array<[number, number]> = [];
  const byType = new Map<string, number>();
  let first = 0;
  let last = 0;
  for (const e of events) {
    const at = ms(e.eventTime as Time);
    if (!first) first = at;
    last = at;
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    if (e.activityTaskStartedEventAttributes) startedAt.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), at);
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const key = String(done.scheduledEventId);
      const start = startedAt.get(key) ?? at;
      spans.push([start, at]);
      const type = scheduled.get(key) ?? '?';
      byType.set(type, (byType.get(type) ?? 0) + (at - start));
    }
  }
  // Busy time: the union of the activity spans.
  let busyMs = 0;
  let end = 0;
  for (const [s, e] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (e <= end) continue;
    busyMs += e - Math.max(s, end);
    end = e;
  }
  return { wallMs: last - first, activitySumMs: spans.reduce((n, [s, e]) => n + (e - s), 0), busyMs, activities: spans.length, byType };
}

const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const campaign = await openCampaign('west');
  try {
    console.log(`LinkMeshClusters on a fresh west/east pair of API servers (lab linkerd, real activities), ${rounds} round(s)`);
    const all: RunFigures[] = [];
    for (let round = 0; round < rounds; round++) {
      const mesh = await openMeshArena(campaign.context, `bench-mesh-${round}`);
      try {
        const started = Date.now();
        const handle = await startLinkMesh(mesh, `bench-mesh-${round}`);
        await outcome(handle, 10 * 60_000);
        const clientMs = Date.now() - started;
        const f = await figuresOf(handle);
        all.push(f);
        console.log(
          `  round ${round + 1}: wall ${s(f.wallMs)} (client ${s(clientMs)}); ${f.activities} activities, sum ${s(f.activitySumMs)}, busy ${s(f.busyMs)}; ` +
            `overhead vs sum ${s(f.wallMs - f.activitySumMs)} (${pct(f.wallMs - f.activitySumMs, f.wallMs)}), vs busy ${s(f.wallMs - f.busyMs)} (${pct(f.wallMs - f.busyMs, f.wallMs)})`,
        );
      } finally {
        await mesh.close();
      }
    }
    const mean = (pick: (f: RunFigures) => number) => all.reduce((n, f) => n + pick(f), 0) / all.length;
    const wall = mean((f) => f.wallMs);
    const sum = mean((f) => f.activitySumMs);
    const busy = mean((f) => f.busyMs);
    console.log(
      `  mean: wall ${s(wall)}, activity sum ${s(sum)}, busy ${s(busy)}; orchestration overhead ${s(wall - sum)} (${pct(wall - sum, wall)}) against the sum, ${s(wall - busy)} (${pct(wall - busy, wall)}) against the busy time`,
    );
    const types = new Map<string, number>();
    for (const f of all) for (const [t, v] of f.byType) types.set(t, (types.get(t) ?? 0) + v / all.length);
    console.log('  mean time per activity type (summed over its calls):');
    for (const [t, v] of [...types].sort((a, b) => b[1] - a[1])) console.log(`    ${t.padEnd(22)} ${s(v)}`);
  } finally {
    await campaign.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
