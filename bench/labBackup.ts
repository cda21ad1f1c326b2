/**
 * etcd backup on the lab: west bootstrapped by kubeha (3 control planes, a spare, 2 workers), filled
 * with ConfigMaps through the Kubernetes API, then backed up N times by the real `backupEtcdSnapshot`
 * activity (SSH to the first control plane, the lab's moto S3), each time with a new backup id. It
 * reports the fill time; per backup the snapshot save on the host, the snapshot's size, keys and
 * revision, the upload and the activity's wall time, with medians; and the latency of GETs to that
 * control plane's API server without a backup and during one. Figures only.
 *
 * Usage: node dist/bench/labBackup.js [runs=3] [--objects 10000] [--json <file>]
 *        (as root, under `flock /tmp/kubeha-lab.lock`; west only, on 127.0.10.151-156)
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createBackupActivities } from '../activities/backup';
import { s3ClientFor } from '../activities/backup/store';
import type { BackupRecord } from '../activities/backup/types';
import { createSshShell, FileKnownHostsStore } from '../activities/ssh';
import type { RemoteShell } from '../activities/ssh/types';
import { backupEtcdInputSchema, backupIdOf } from '../common/inputs/backupEtcd';
import { type KubeClient, withRetry } from '../lab/kube/client';
import { keyringOf } from '../lib/codec/keyring';
import { startTestLab } from '../test/lab/e2e/support';
import { startTestTemporal } from '../test/support/temporal';
import { type BenchWorker, benchTopology, bootstrapWest, startBenchWorker } from './labBootstrap';
import { quantile } from './webhookStack';

const NAMESPACE = 'bench-backup';
const FILL_CONCURRENCY = 16;
/** Long enough for a few hundred requests per kind, short beside the backups it is compared with. */
const BASELINE_MS = 15_000;

/** A timed call: a remote command (by label), an S3 command (by name) or an API request (by kind). */
interface Span {
  what: string;
  start: number;
  end: number;
  ok?: boolean;
}

/** One backup. */
export interface BackupRun {
  backupId: string;
  activityMs: number;
  /** `etcdctl snapshot save` on the host, seen from the worker (one SSH command). */
  snapshotMs: number;
  /** From the first slice read on the host to the snapshot object complete in S3. */
  uploadMs: number;
  bytes: number;
  totalKeys: number;
  revision: number;
  /** When the snapshot save and the activity ran (ms since the epoch): the latency windows. */
  snapshotAt: [number, number];
  activityAt: [number, number];
}

/** Latency of one kind of request in one window (ms). */
export interface Latency {
  n: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

/** What the bench measured. */
export interface LabBackupReport {
  topology: string;
  objects: number;
  fillMs: number;
  runs: BackupRun[];
  medians: Pick<BackupRun, 'activityMs' | 'snapshotMs' | 'uploadMs' | 'bytes' | 'totalKeys' | 'revision'>;
  /** The API server the load went to, and the latency per request kind: baseline, whole backup, snapshot save only. */
  api: { server: string; latency: Record<'get' | 'list', Record<'baseline' | 'backup' | 'snapshot', Latency>> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (values: number[]) => quantile(values, 0.5);

/** The shell with every command's span recorded: the activity reports no phase times of its own. */
function timedShell(shell: RemoteShell, spans: Span[]): RemoteShell {
  return {
    run: async (host, cmd, options) => {
      const start = Date.now();
      try {
        return await shell.run(host, cmd, options);
      } finally {
        spans.push({ what: cmd.label ?? '', start, end: Date.now() });
      }
    },
    runChecked: (host, cmd, options) => shell.runChecked(host, cmd, options),
    writeFile: (host, file, content, mode, options) => shell.writeFile(host, file, content, mode, options),
    readFile: (host, file, options) => shell.readFile(host, file, options),
    close: () => shell.close(),
  };
}

/** Records every S3 command's span on the client. */
function timeS3(s3: S3Client, spans: Span[]): void {
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const start = Date.now();
      try {
        return await next(args);
      } finally {
        spans.push({ what: String(context.commandName), start, end: Date.now() });
      }
    },
    { step: 'initialize', name: 'benchTiming' },
  );
}

/** Creates `count` ConfigMaps of ~1 KiB, FILL_CONCURRENCY at a time; retried creates are idempotent. */
async function fill(api: KubeClient, count: number): Promise<number> {
  await api.createIfMissing('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  const started = Date.now();
  let next = 0;
  const filler = async () => {
    for (let i = next++; i < count; i = next++) {
      const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName(i) }, data: { payload: randomBytes(512).toString('hex') } };
      await withRetry(() => api.createIfMissing(`/api/v1/namespaces/${NAMESPACE}/configmaps`, obj), 60_000);
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, filler));
  return Date.now() - started;
}

const cmName = (i: number) => `cm-${String(i).padStart(5, '0')}`;

/** GETs one at a time until stopped, alternating one ConfigMap and a 500-item page of the list. */
function startLoad(api: KubeClient, objects: number): { spans: Span[]; stop: () => Promise<void> } {
  const spans: Span[] = [];
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const requests: [string, string][] = [
        ['get', `/api/v1/namespaces/${NAMESPACE}/configmaps/${cmName(Math.floor(Math.random() * objects))}`],
        ['list', `/api/v1/namespaces/${NAMESPACE}/configmaps?limit=500`],
      ];
      for (const [what, url] of requests) {
        const start = Date.now();
        const ok = await api.request('GET', url).then(
          (r) => r.status === 200,
          () => false,
        );
        spans.push({ what, start, end: Date.now(), ok });
      }
    }
  };
  const running = loop();
  return {
    spans,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

/** Latency of the requests of one kind in flight at some point of any of the windows (a snapshot save lasts only a few requests). */
function latency(spans: Span[], what: string, windows: [number, number][]): Latency {
  const inWindow = spans.filter((s) => s.what === what && windows.some(([from, to]) => s.start < to && s.end > from));
  const ms = inWindow.filter((s) => s.ok).map((s) => s.end - s.start);
  return { n: ms.length, errors: inWindow.length - ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: ms.length ? Math.max(...ms) : NaN };
}

/** Brings up the lab, bootstraps west, fills it with `objects` ConfigMaps and takes `runs` backups under load. */
export async function labBackupBench(runs: number, objects: number): Promise<LabBackupReport> {
  const temporal = await startTestTemporal();
  const testLab = await startTestLab('bench-backup', benchTopology());
  const { dataDir, lab } = testLab;
  const sshShell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dataDir, 'known_hosts.json')) });
  const hostSpans: Span[] = [];
  const shell = timedShell(sshShell, hostSpans);
  let worker: BenchWorker | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  try {
    worker = await startBenchWorker(temporal, dataDir, shell);
    const { cluster, api } = await bootstrapWest(worker, lab.state.inputs.west);
    const { secrets } = worker;
    await worker.stop();
    worker = undefined;

    // The real BackupEtcd input, for its defaults; the snapshot waits in the lab host's own /etc/kubernetes.
    const config = backupEtcdInputSchema.parse({
      clusterName: 'west',
      hosts: cluster.hosts,
      store: { bucket: 'kubeha-bench', region: process.env.AWS_REGION, endpoint: lab.state.aws!.motoEndpoint },
      snapshotDir: '/etc/kubernetes/kubeha-backup',
    });
    const host = config.hosts.find((h) => h.role === 'control-plane')!;
    const s3Spans: Span[] = [];
    const s3 = s3ClientFor(config.store);
    timeS3(s3, s3Spans);
    await s3.send(new CreateBucketCommand({ Bucket: config.store.bucket }));
    const keyring = keyringOf([{ id: 'bench', key: randomBytes(32) }]);
    const activities = createBackupActivities({ shell, secrets, keyring: () => keyring, s3For: () => s3 });

    const fillMs = await fill(api, objects);
    process.stdout.write(`filled ${objects} ConfigMaps in ${(fillMs / 1000).toFixed(1)} s\n`);
    // The load goes to the control plane that takes the snapshot: its API server reads from that etcd.
    const primaryApi = api.withServer(`https://${host.address}:6443`);
    load = startLoad(primaryApi, objects);
    const baselines: [number, number][] = [];
    const results: BackupRun[] = [];
    for (let n = 1; n <= runs; n++) {
      const baselineStart = Date.now();
      await sleep(BASELINE_MS);
      baselines.push([baselineStart, Date.now()]);
      const backupId = backupIdOf(`bench-backup-${n}`, new Date());
      hostSpans.length = 0;
      s3Spans.length = 0;
      const started = Date.now();
      const { record } = await activities.backupEtcdSnapshot({ clusterName: 'west', backupId, host, store: config.store, snapshotDir: config.snapshotDir });
      const run = runOf(record, [started, Date.now()], hostSpans, s3Spans);
      process.stdout.write(`backup ${n}: ${JSON.stringify(run)}\n`);
      results.push(run);
    }
    await load.stop();
    const { spans } = load;
    const windows = { baseline: baselines, backup: results.map((r) => r.activityAt), snapshot: results.map((r) => r.snapshotAt) };
    const per = (what: string) => ({
      baseline: latency(spans, what, windows.baseline),
      backup: latency(spans, what, windows.backup),
      snapshot: latency(spans, what, windows.snapshot),
    });
    const m = (key: keyof LabBackupReport['medians']) => median(results.map((r) => r[key]));
    return {
      topology: 'west: 3 control planes, 1 spare control plane, 2 workers; snapshot on the first control plane',
      objects,
      fillMs,
      runs: results,
      medians: {
        activityMs: m('activityMs'),
        snapshotMs: m('snapshotMs'),
        uploadMs: m('uploadMs'),
        bytes: m('bytes'),
        totalKeys: m('totalKeys'),
        revision: m('revision'),
      },
      api: { server: primaryApi.target.server, latency: { get: per('get'), list: per('list') } },
    };
  } finally {
    // A failed run leaves neither the load loop (it would spin on a lab that is gone) nor the worker behind.
    await load?.stop();
    await worker?.stop();
    await shell.close();
    await testLab.close().catch(() => undefined);
    await temporal.teardown();
  }
}

/** One backup's figures from its record and the spans its commands left. */
function runOf(record: BackupRecord, activityAt: [number, number], hostSpans: Span[], s3Spans: Span[]): BackupRun {
  const save = hostSpans.find((s) => s.what === 'etcdctl snapshot save');
  const firstRead = hostSpans.find((s) => s.what === 'read snapshot slice');
  // The snapshot object is the last S3 write of a backup (PutObject, or the multipart completion).
  const lastWrite = s3Spans.filter((s) => s.what === 'PutObjectCommand' || s.what === 'CompleteMultipartUploadCommand').at(-1);
  if (!save || !firstRead || !lastWrite) throw new Error(`backup ${record.backupId}: no snapshot save, slice read or S3 write was seen`);
  return {
    backupId: record.backupId,
    activityMs: activityAt[1] - activityAt[0],
    snapshotMs: save.end - save.start,
    uploadMs: lastWrite.end - firstRead.start,
    bytes: record.bytes,
    totalKeys: record.totalKeys,
    revision: record.revision,
    snapshotAt: [save.start, save.end],
    activityAt,
  };
}

/** The report as a compact table. */
function table(r: LabBackupReport): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const row = (cells: (string | number)[], widths: number[]) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' ');
  const w = [8, 10, 10, 10, 11, 9, 9];
  const lw = [8, 10, 6, 7, 6, 6, 6, 9, 9];
  const m = r.medians;
  const lines = [
    r.topology,
    `fill: ${r.objects} ConfigMaps of ~1 KiB in namespace ${NAMESPACE}, ${FILL_CONCURRENCY} at a time: ${s(r.fillMs)} (${Math.round(r.objects / (r.fillMs / 1000))}/s)`,
    row(['backup', 'activity', 'snapshot', 'upload', 'bytes', 'keys', 'revision'], w),
    ...r.runs.map((run, i) => row([i + 1, s(run.activityMs), s(run.snapshotMs), s(run.uploadMs), run.bytes, run.totalKeys, run.revision], w)),
    row(['median', s(m.activityMs), s(m.snapshotMs), s(m.uploadMs), m.bytes, m.totalKeys, m.revision], w),
    `API latency (ms), GETs one at a time to ${r.api.server}, a new TLS connection each; ratios to the baseline:`,
    row(['request', 'window', 'n', 'errors', 'p50', 'p99', 'max', 'p50 ratio', 'p99 ratio'], lw),
  ];
  const x = (v: number) => `x${v.toFixed(2)}`;
  for (const [what, windows] of Object.entries(r.api.latency))
    for (const [name, l] of Object.entries(windows))
      lines.push(row([what, name, l.n, l.errors, l.p50, l.p99, l.max, x(l.p50 / windows.baseline.p50), x(l.p99 / windows.baseline.p99)], lw));
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { json: { type: 'string' }, objects: { type: 'string', default: '10000' } } });
  labBackupBench(Number(positionals[0] ?? 3), Number(values.objects))
    .then((report) => {
      process.stdout.write(table(report));
      if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
