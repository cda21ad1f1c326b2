/**
 * The crash campaign: `node dist/test/chaos/crash/campaign.js [--points a,b,... | --quick | --mesh]
 * [--range west|east] [--json file]` (`--quick`: the slice crash.test.ts runs; `--mesh`: only the
 * LinkMeshClusters points, which need no lab: a pair of API servers each). Runs each point on a fresh lab against one file-backed dev server, prints a table
 * (point, trigger, what the killed worker held, time to resume and its bound, kubeadm counts,
 * duplicates, problems) and exits 1 when any point fails. Run it under `labslot`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { campaignRoot, type CampaignContext, type CrashRange, CRASH_RANGES } from './arena';
import { FileBackedDevServer } from './devServer';
import { MESH_POINTS, QUICK_POINTS, selectPoints, type CrashPoint } from './points';
import { passed, runPoint, type PointResult } from './runPoint';

/** Options of a campaign. */
export interface CampaignOptions {
  /** Loopback range of the labs (default west: 127.0.14.101-110). */
  range?: CrashRange;
  /** Called with each row as it is done. */
  onRow?: (row: PointResult) => void;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

/** A campaign's shared pieces: the workflow bundle, the file-backed dev server, the scratch folder. */
export interface OpenCampaign {
  context: CampaignContext;
  close(): Promise<void>;
}

/** Bundles the workflows once and starts the campaign's file-backed dev server. */
export async function openCampaign(range: CrashRange = 'west'): Promise<OpenCampaign> {
  const root = campaignRoot();
  let server: FileBackedDevServer | undefined;
  const close = async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../../workflows'), logger: quietLogger });
    const bundlePath = path.join(root, 'workflows-bundle.js');
    writeFileSync(bundlePath, code);
    mkdirSync(path.join(root, 'temporal'), { recursive: true });
    server = await FileBackedDevServer.start(path.join(root, 'temporal', 'dev.db'));
    return { context: { server, bundlePath, root, range }, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs `points` one after another (each on a fresh lab) against one dev server; returns the rows. */
export async function runCampaign(points: CrashPoint[], options: CampaignOptions = {}): Promise<PointResult[]> {
  const campaign = await openCampaign(options.range);
  try {
    const rows: PointResult[] = [];
    for (const point of points) {
      const row = await runPoint(campaign.context, point);
      rows.push(row);
      (options.onRow ?? noop)(row);
    }
    return rows;
  } finally {
    await campaign.close();
  }
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));

/** The campaign table as text: one line per point, then the totals. */
export function renderTable(rows: PointResult[]): string {
  const header = ['point', 'trigger', 'held at kill', 'resume s', 'bound', 'ready s', 'done', 'init', 'joins', 'dup', 'run s', 'result'];
  const lines = rows.map((r) => [
    r.point,
    r.trigger,
    r.inFlight ?? '-',
    seconds(r.resumeMs),
    r.bound ?? '-',
    seconds(r.workerReadyMs),
    r.completed ? 'yes' : 'NO',
    r.inits === undefined ? '-' : String(r.inits),
    r.joins ?? '-',
    String(r.duplicates),
    seconds(r.ms),
    passed(r) ? 'ok' : `FAIL: ${r.problems.join('; ')}`,
  ]);
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...lines.map((l) => l[i].length))));
  const format = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join(' | ');
  const notes = rows.filter((r) => r.notes.length).map((r) => `  ${r.point}: ${r.notes.join(' / ')}`);
  const completed = rows.filter((r) => r.completed).length;
  const duplicates = rows.reduce((n, r) => n + r.duplicates, 0);
  const failed = rows.filter((r) => !passed(r)).map((r) => r.point);
  return [
    format(header),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...lines.map(format),
    '',
    `points: ${rows.length}, runs completed: ${completed}, duplicate side effects: ${duplicates}, failed: ${failed.length ? failed.join(', ') : 'none'}`,
    ...(notes.length ? ['notes:', ...notes] : []),
  ].join('\n');
}

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  const points = args.includes('--quick')
    ? QUICK_POINTS
    : args.includes('--mesh')
      ? MESH_POINTS
      : selectPoints((argValue(args, '--points') ?? '').split(',').filter(Boolean));
  const range = (argValue(args, '--range') ?? 'west') as CrashRange;
  if (!(range in CRASH_RANGES)) throw new Error(`--range must be one of ${Object.keys(CRASH_RANGES).join(', ')}`);
  const json = argValue(args, '--json');
  process.stdout.write(`crash campaign: ${points.length} point(s) on ${CRASH_RANGES[range]}.101+\n`);
  const rows = await runCampaign(points, {
    range,
    onRow: (r) =>
      process.stdout.write(
        `${passed(r) ? 'ok  ' : 'FAIL'} ${r.point}: resume ${seconds(r.resumeMs)} s, run ${seconds(r.ms)} s${r.problems.length ? `: ${r.problems.join('; ')}` : ''}\n`,
      ),
  });
  if (json) writeFileSync(json, JSON.stringify(rows, null, 1));
  process.stdout.write(`\n${renderTable(rows)}\n`);
  return rows.every(passed) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(2);
    },
  );
}
