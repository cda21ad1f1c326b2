/**
 * Runs one crash point on a fresh lab and judges it from the lab's records: the run completed, nothing
 * ran twice, the targets and the etcd members are what a clean run leaves.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Progress } from '../../../common/progress';
import { labHostPaths } from '../../../lab/hosts/layout';
import { labFault } from '../../../lab/orchestrator';
import { failoverInput, notification } from '../../failover/fakeFailoverWorld';
import { targetTransitions } from '../../lab/e2e/support';
import { Arena, type ArenaShape, type CampaignContext } from './arena';
import { describeTrigger, inFlightOf, nextProgress, progressOf, waitForTrigger } from './observe';
import { killAndResume, outcome } from './pointKit';
import type { CrashPoint } from './points';
import { bootstrapRecords, commandCount, commandsSince, storedKeyOpensUploadedCerts } from './records';
import { readStubWorld } from './workerChild';
import { dnsPoint } from './dnsPoint';
import { recoverPoint } from './recoverPoint';
import { backupPoint } from './backupPoint';
import { meshPoint } from './meshPoint';

/** One row of the campaign table. */
export interface PointResult {
  point: string;
  kind: CrashPoint['kind'];
  /** When the point acted. */
  trigger: string;
  /** What the killed worker held (activity and attempt), when a worker was killed. */
  inFlight?: string;
  /** The timeout that bounds the resume, in words. */
  bound?: string;
  boundMs?: number;
  /** Kill (or server restart, or fault) to the run's next progress. */
  resumeMs?: number;
  /** How long the replacement worker took to poll. */
  workerReadyMs?: number;
  completed: boolean;
  /** `kubeadm init` on the primary. */
  inits?: number;
  /** `kubeadm join` per host, as `host=n`. */
  joins?: string;
  /** Side effects beyond one clean run (must be 0). */
  duplicates: number;
  problems: string[];
  notes: string[];
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lab a point needs: none for the stub worlds, the primary alone for the rotation and the backup, else its shape (default full). */
function shapeOf(point: CrashPoint): ArenaShape | 'none' {
  if (point.kind === 'failover' || point.kind === 'failover-dns' || point.kind === 'mesh') return 'none';
  if (point.kind === 'rotation' || point.kind === 'backup') return 'primary-only';
  return point.kind === 'recover' ? 'full' : (point.shape ?? 'full');
}

/** Runs a point; never throws: a failure is a row with problems. */
export async function runPoint(context: CampaignContext, point: CrashPoint): Promise<PointResult> {
  const started = Date.now();
  const result: PointResult = { point: point.name, kind: point.kind, trigger: '', completed: false, duplicates: 0, problems: [], notes: [], ms: 0 };
  let arena: Arena | undefined;
  try {
    // A mesh point opens its own arena, beside its pair of API servers.
    if (point.kind === 'mesh') {
      await meshPoint(context, point, result);
      result.ms = Date.now() - started;
      return result;
    }
    arena = await Arena.open(context, point.name, shapeOf(point));
    if (point.kind === 'rotation') await rotationPoint(arena, result);
    else if (point.kind === 'failover') await failoverPoint(arena, result);
    else if (point.kind === 'failover-dns') await dnsPoint(arena, result, outcome);
    else if (point.kind === 'recover') await recoverPoint(arena, point, result);
    else if (point.kind === 'backup') await backupPoint(arena, result);
    else await bootstrapPoint(arena, point, result);
  } catch (err) {
    result.problems.push((err as Error).message.replace(/\s+/g, ' ').slice(0, 2000));
    if (arena) {
      const output = arena.workerOutput();
      if (output && !result.completed) result.notes.push(`worker output: ${output.slice(-600)}`);
    }
  } finally {
    if (arena?.lab && result.problems.length > 0) keepCommandLogs(arena, point.name);
    await arena?.close().catch((err: Error) => result.problems.push(`clean-up: ${err.message}`));
  }
  result.ms = Date.now() - started;
  return result;
}

/** With KUBEHA_CRASH_KEEP set, a failed point's commands.log files are copied there before the lab goes. */
function keepCommandLogs(arena: Arena, point: string): void {
  const keep = process.env.KUBEHA_CRASH_KEEP;
  if (!keep) return;
  for (const host of arena.labUp.state.hosts) {
    const log = labHostPaths(arena.labUp.paths.labDir, host.name).commandsLog;
    if (!existsSync(log)) continue;
    mkdirSync(path.join(keep, point), { recursive: true });
    copyFileSync(log, path.join(keep, point, `${host.name}.commands.log`));
  }
}

async function bootstrapPoint(
  arena: Arena,
  point: Exclude<CrashPoint, { kind: 'rotation' | 'failover' | 'failover-dns' | 'recover' | 'backup' | 'mesh' }>,
  result: PointResult,
): Promise<void> {
  result.trigger = describeTrigger(point.trigger);
  const lab = arena.labUp;
  await arena.startWorker();
  if (point.kind === 'fault' && point.trigger.kind === 'run-start') {
    // Armed before the first call, so the run's first AWS calls meet it.
    result.notes.push(...(await point.fault.apply((name, args) => labFault(name, args, arena!.dataDir))));
  }
  const handle = await arena.start('BootstrapStackedEtcd', `crash-${point.name}`, arena.bootstrapInput(point.kind === 'hold' ? 'wait' : 'fail'));
  const runStarted = Date.now();
  const approximately = await waitForTrigger(handle, lab, point.trigger);
  if (approximately) result.notes.push(approximately);
  let faultDone: Promise<string[]> | undefined;

  if (point.kind === 'kill') {
    await killAndResume(arena, handle, result);
  } else if (point.kind === 'server-restart') {
    const killedAt = Date.now();
    await arena.context.server.kill();
    await sleep(point.downMs);
    await arena.context.server.restart();
    result.notes.push(`server down ${Date.now() - killedAt} ms`);
    result.bound = 'activity completions and workflow tasks wait for the server; the worker reconnects';
    result.resumeMs = await nextProgress(handle, killedAt, undefined);
  } else if (point.kind === 'fault' && point.trigger.kind !== 'run-start') {
    // Applied beside the run (a temporary fault clears itself); its notes are read once the run is done.
    faultDone = point.fault.apply((name, args) => labFault(name, args, arena!.dataDir));
    faultDone.catch(() => undefined);
    result.notes.push(point.fault.description);
  } else if (point.kind === 'hold') {
    await holdPoint(arena, handle, point.host, result);
  }

  await outcome(handle);
  result.completed = true;
  if (faultDone) result.notes.push(...(await faultDone));
  const progress = (await progressOf(handle)) as Progress;
  if (progress?.phase !== 'succeeded') result.problems.push(`progress phase ${progress?.phase}`);
  const retried = progress?.steps.filter((s) => s.attempts > 1).map((s) => `${s.step}×${s.attempts}`) ?? [];
  if (retried.length) result.notes.push(`steps retried: ${retried.join(', ')}`);
  if (point.kind === 'fault' && point.name === 'lb-flapping') {
    const flips = (await targetTransitions(lab.state.aws!.endpoint, runStarted)).filter((t) => t.to === 'unhealthy');
    result.notes.push(`unhealthy transitions recorded by the load balancer: ${flips.map((t) => t.id).join(', ') || 'none'}`);
  }
  const records = await bootstrapRecords(lab);
  result.inits = records.inits;
  result.joins = Object.entries(records.joins)
    .map(([h, n]) => `${h.replace(/^west-/, '')}=${n}`)
    .join(' ');
  result.duplicates = records.duplicates;
  result.problems.push(...records.problems);
}

/**
 * The permanent fault: `host` is stopped for good when the trigger holds. The run must hold in phase
 * `waiting` with a reason naming the host; then the host starts again, the operator signals retry,
 * and the run completes.
 */
async function holdPoint(arena: Arena, handle: WorkflowHandle, host: string, result: PointResult): Promise<void> {
  result.notes.push(await labFault('host-stop', [host], arena.dataDir));
  const stoppedAt = Date.now();
  let progress: Progress | undefined;
  for (;;) {
    progress = await progressOf(handle);
    if (progress?.phase === 'waiting' && progress.waitingFor) break;
    if (progress?.phase === 'succeeded' || progress?.phase === 'failed') throw new Error(`the run ended (${progress.phase}) instead of holding`);
    if (Date.now() - stoppedAt > 10 * 60_000) throw new Error('the run never held for the operator');
    await sleep(500);
  }
  result.notes.push(`held after ${Math.round((Date.now() - stoppedAt) / 1000)} s: ${progress.waitingFor!.slice(0, 220)}`);
  if (!progress.waitingFor!.includes(host)) result.problems.push(`the reason does not name ${host}: ${progress.waitingFor}`);
  // Still holding a while later: nothing moves without the operator.
  await sleep(5000);
  const still = await progressOf(handle);
  if (still?.phase !== 'waiting') result.problems.push(`the run did not keep holding (phase ${still?.phase})`);
  result.notes.push(await labFault('host-start', [host], arena.dataDir));
  const signalledAt = Date.now();
  await handle.signal('retry');
  result.bound = 'operator retry signal (the run holds until it comes)';
  result.resumeMs = await nextProgress(handle, signalledAt, undefined);
}

/**
 * RotateCertificateKey on a one-control-plane cluster: the worker dies after `kubeadm certs
 * certificate-key` reached the primary and before `upload-certs`; the resumed run uploads one key,
 * and the key kubeha stored opens Secret kubeadm-certs.
 */
async function rotationPoint(arena: Arena, result: PointResult): Promise<void> {
  const lab = arena.labUp;
  const primary = lab.state.hosts[0].name;
  result.trigger = `\`kubeadm certs certificate-key\` reaches ${primary} (after a bootstrap)`;
  await arena.startWorker();
  const input = arena.bootstrapInput('fail');
  await outcome(await arena.start('BootstrapStackedEtcd', 'crash-rotation-bootstrap', input));

  const mark = commandCount(lab, primary);
  const certificateKey = /kubeadm certs certificate-key/;
  const upload = /kubeadm init phase upload-certs/;
  const handle = await arena.start('RotateCertificateKey', 'crash-rotation', {
    clusterName: input.clusterName,
    hosts: input.hosts,
    keepKeyUploadedWithinMinutes: 0,
    certificates: { enabled: false },
    onFailure: 'fail',
  });
  const deadline = Date.now() + 5 * 60_000;
  while (commandsSince(lab, primary, certificateKey, mark) === 0) {
    if (Date.now() > deadline) throw new Error('kubeadm certs certificate-key never reached the primary');
    await sleep(20);
  }
  await killAndResume(arena, handle, result);
  const uploadsBeforeResume = commandsSince(lab, primary, upload, mark);
  if (uploadsBeforeResume > 0) result.notes.push('the kill came after upload-certs had already started (missed the window)');
  const rotated = await outcome<{ key?: { rotated: boolean; previousKeyRejected?: boolean } }>(handle);
  result.completed = true;
  const keys = commandsSince(lab, primary, certificateKey, mark);
  const uploads = commandsSince(lab, primary, upload, mark);
  result.notes.push(`${keys} key(s) created, ${uploads} upload(s); rotated=${rotated.key?.rotated}, previous key rejected=${rotated.key?.previousKeyRejected}`);
  if (uploads !== 1) result.problems.push(`upload-certs ran ${uploads} times after the crash (expected 1)`);
  result.duplicates = Math.max(0, uploads - 1);
  if (!rotated.key?.rotated) result.problems.push('the run did not rotate the key');
  result.problems.push(...(await storedKeyOpensUploadedCerts(arena.dataDir, input.clusterName)));
}

/** FailoverToEast with the stub world: killed while failed over, resumed in the same state, fails back once. */
async function failoverPoint(arena: Arena, result: PointResult): Promise<void> {
  result.trigger = 'status failed-over (east 100%)';
  const worldFile = path.join(arena.dataDir, 'failover-world.json');
  await arena.startWorker(worldFile);
  const handle = await arena.client.workflow.signalWithStart('FailoverToEast', {
    taskQueue: arena.taskQueue,
    workflowId: `crash-failover-${Date.now()}`,
    args: [failoverInput()],
    signal: 'alert',
    signalArgs: [notification('firing')],
  });
  type Status = { state: string; eastPercent: Record<string, number> };
  const deadline = Date.now() + 120_000;
  while ((await handle.query<Status>('status')).state !== 'failed-over') {
    if (Date.now() > deadline) throw new Error('never failed over');
    await sleep(200);
  }
  const killedIdentity = arena.identity;
  const killedAt = await arena.killWorker();
  const held = await inFlightOf(handle, killedIdentity);
  result.inFlight = held.activity ? `${held.activity.type} #${held.activity.attempt}` : 'no activity (holding on a timer/signal)';
  result.bound = held.bound;
  result.boundMs = held.boundMs;
  const { readyMs } = await arena.startWorker(worldFile);
  result.workerReadyMs = readyMs;
  const status = await handle.query<Status>('status');
  result.resumeMs = Date.now() - killedAt;
  if (status.state !== 'failed-over') result.problems.push(`after the crash the state is ${status.state}, not failed-over`);
  if (status.eastPercent['test/podinfo'] !== 100) result.problems.push(`after the crash east has ${JSON.stringify(status.eastPercent)}`);
  await handle.signal('alert', notification('resolved'));
  const end = await outcome<{ outcome: string }>(handle, 120_000);
  result.completed = true;
  if (end.outcome !== 'failed-back') result.problems.push(`outcome ${end.outcome}`);
  if (!existsSync(worldFile)) throw new Error('the stub world recorded nothing');
  const world = readStubWorld(worldFile);
  result.notes.push(`shifts ${world.shiftRequests.join(' → ')}`);
  if (world.shiftRequests.join(',') !== '50,100,50,0') result.problems.push(`shifts ${world.shiftRequests.join(',')}, expected 50,100,50,0 (one failback)`);
  const repeated = world.actions.filter(([, n]) => n > 1);
  result.duplicates = repeated.length;
  if (repeated.length) result.problems.push(`repeated side effects: ${repeated.map(([k, n]) => `${k}×${n}`).join(', ')}`);
}

/** Whether a row passed. */
export function passed(row: PointResult): boolean {
  return row.completed && row.problems.length === 0 && row.duplicates === 0;
}
