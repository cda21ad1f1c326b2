/**
 * `kubeha schedule ...`: the certificate-key rotation's Temporal Schedule, one per cluster.
 *
 *   kubeha schedule rotate --cluster west --every 90m [--jitter 5m] [--catchup-window 10m] [-f input.json]
 *   kubeha schedule list | pause | unpause | trigger | delete  (--cluster NAME [--backup], or the schedule id)
 *
 * `rotate` creates the schedule, or updates it when it exists. The input each run gets comes from
 * `-f` (a RotateCertificateKey input, or the cluster's BootstrapStackedEtcd input), else from the
 * existing schedule, else from the cluster's bootstrap run (`bootstrap-<cluster>`).
 */
import { readFileSync } from 'node:fs';
import { type Client, ScheduleNotFoundError, type ScheduleSummary } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { Command } from 'commander';
import { ensureRotationSchedule } from '../activities/rotation/schedule';
import { BACKUP_SCHEDULE_PREFIX, backupScheduleId } from '../common/inputs/backupEtcd';
import { bootstrapStackedEtcdInputSchema } from '../common/inputs/bootstrapStackedEtcd';
import { rotateCertificateKeyInputSchema, type RotateCertificateKeyInput, rotationScheduleId } from '../common/inputs/rotateCertificateKey';
import { failureInfo } from '../common/errors';
import { inputIssues } from '../common/validation';
import { CliError, durationArgument, withKubehaClient } from './connection';
import { bootstrapWorkflowId } from './commands/bootstrap';

/** Prefix of every rotation schedule id. */
export const ROTATION_SCHEDULE_PREFIX = 'rotate-certificate-key-';

/** Where output goes (stdout, or a buffer in tests). */
export interface Output {
  write(text: string): unknown;
}

/** Options of `kubeha schedule rotate`. */
export interface ScheduleRotateOptions {
  cluster: string;
  every: string;
  jitter: string;
  catchupWindow: string;
  file?: string;
  paused?: boolean;
  taskQueue: string;
}

/** The rotation input from a file holding a RotateCertificateKey input or a BootstrapStackedEtcd input. */
export function rotationInputFromFile(file: string, cluster: string): RotateCertificateKeyInput {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read ${file} as JSON: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
  }
  return rotationInputFrom(raw, cluster, file);
}

function rotationInputFrom(raw: unknown, cluster: string, where: string): RotateCertificateKeyInput {
  const rotation = rotateCertificateKeyInputSchema.safeParse(raw);
  let input: RotateCertificateKeyInput;
  if (rotation.success) input = raw as RotateCertificateKeyInput;
  else {
    const bootstrap = bootstrapStackedEtcdInputSchema.safeParse(raw);
    if (!bootstrap.success) {
      const lines = inputIssues(rotation.error).map((i) => `  ${i.path}: ${i.message}`);
      throw new CliError(`${where} is neither a RotateCertificateKey nor a BootstrapStackedEtcd input:\n${lines.join('\n')}`, 2);
    }
    input = { clusterName: bootstrap.data.clusterName, hosts: bootstrap.data.hosts.filter((h) => h.role !== 'worker') };
  }
  if (input.clusterName !== cluster) throw new CliError(`${where} is for cluster "${input.clusterName}", not "${cluster}"`, 2);
  return input;
}

/** The input of the cluster's bootstrap run, decoded with the client's data converter (so also when encrypted). */
async function inputFromBootstrapRun(client: Client, cluster: string): Promise<RotateCertificateKeyInput | undefined> {
  const workflowId = bootstrapWorkflowId(cluster);
  let history;
  try {
    history = await client.workflow.getHandle(workflowId).fetchHistory();
  } catch {
    return undefined;
  }
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  const [raw] = await decodeArrayFromPayloads(client.options.loadedDataConverter, payloads);
  return rotationInputFrom(raw, cluster, `the input of workflow ${workflowId}`);
}

async function existingInput(client: Client, cluster: string): Promise<RotateCertificateKeyInput | undefined> {
  try {
    const description = await client.schedule.getHandle(rotationScheduleId(cluster)).describe();
    return description.action.args?.[0] as RotateCertificateKeyInput | undefined;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** Creates or updates the rotation schedule of a cluster. Returns what it did, in words. */
export async function scheduleRotate(client: Client, options: ScheduleRotateOptions): Promise<{ scheduleId: string; created: boolean; inputFrom: string }> {
  let inputFrom = options.file ?? '';
  let workflowInput = options.file ? rotationInputFromFile(options.file, options.cluster) : await existingInput(client, options.cluster);
  if (!options.file) inputFrom = workflowInput ? 'the existing schedule' : '';
  if (!workflowInput) {
    workflowInput = await inputFromBootstrapRun(client, options.cluster);
    inputFrom = `workflow ${bootstrapWorkflowId(options.cluster)}`;
  }
  if (!workflowInput) {
    throw new CliError(
      `no input for the rotation of "${options.cluster}": give -f with the cluster's RotateCertificateKey or BootstrapStackedEtcd input (no schedule and no ${bootstrapWorkflowId(options.cluster)} run found)`,
      2,
    );
  }
  try {
    const result = await ensureRotationSchedule(client, {
      clusterName: options.cluster,
      schedule: { every: options.every, jitter: options.jitter, catchupWindow: options.catchupWindow, paused: options.paused ?? false },
      workflowInput,
      taskQueue: options.taskQueue,
    });
    return { ...result, inputFrom };
  } catch (err) {
    if (failureInfo(err)?.issues) throw new CliError((err as Error).message, 2);
    throw err;
  }
}

/** The rotation schedules (every schedule whose id starts with {@link ROTATION_SCHEDULE_PREFIX}). */
export async function listRotationSchedules(client: Client): Promise<ScheduleSummary[]> {
  return listSchedules(client, (id) => id.startsWith(ROTATION_SCHEDULE_PREFIX));
}

/** kubeha's schedules: every cluster's rotation and etcd backup schedules, by id. */
export async function listKubehaSchedules(client: Client): Promise<ScheduleSummary[]> {
  return listSchedules(client, (id) => id.startsWith(ROTATION_SCHEDULE_PREFIX) || id.startsWith(BACKUP_SCHEDULE_PREFIX));
}

/**
 * The schedules whose id `wanted` accepts, by id. The list comes from the visibility store, which
 * follows a pause or an update only after a moment; each schedule's spec, state and next times are
 * therefore read from the schedule itself, so a list right after `pause` says paused. A schedule
 * deleted meanwhile is left out.
 */
async function listSchedules(client: Client, wanted: (id: string) => boolean): Promise<ScheduleSummary[]> {
  const out: ScheduleSummary[] = [];
  for await (const summary of client.schedule.list()) {
    if (!wanted(summary.scheduleId)) continue;
    try {
      const now = await client.schedule.getHandle(summary.scheduleId).describe();
      out.push({
        ...summary,
        spec: now.spec,
        state: { paused: now.state.paused, note: now.state.note },
        info: { ...summary.info, nextActionTimes: now.info.nextActionTimes, recentActions: now.info.recentActions },
      });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/** How the runs a schedule started ended (the last of them, and how many of the recent ones failed). */
export interface ScheduleRunOutcomes {
  /** Status of the last run (RUNNING, COMPLETED, FAILED, TIMED_OUT...), undefined when none ran. */
  lastStatus?: string;
  lastWorkflowId?: string;
  /** Recent runs that did not complete, of those Temporal keeps (up to 10). */
  failedRecent: number;
  recent: number;
}

const FAILED_STATUSES = new Set(['FAILED', 'TIMED_OUT', 'TERMINATED', 'CANCELLED']);

/**
 * What became of a schedule's recent runs, asked of the runs themselves: a rotation that fails must be
 * seen, or the uploaded certificates lapse while the schedule looks busy.
 */
export async function scheduleRunOutcomes(client: Client, summary: ScheduleSummary): Promise<ScheduleRunOutcomes> {
  const actions = summary.info.recentActions;
  const statuses = await Promise.all(
    actions.map((a) =>
      client.workflow
        .getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId)
        .describe()
        .then(
          (d) => d.status.name as string,
          () => 'UNKNOWN',
        ),
    ),
  );
  return {
    lastStatus: statuses.at(-1),
    lastWorkflowId: actions.at(-1)?.action.workflow.workflowId,
    failedRecent: statuses.filter((s) => FAILED_STATUSES.has(s)).length,
    recent: statuses.length,
  };
}

/** One line per schedule: id, state, next run, last run and how it ended; a warning line when runs fail. */
export function formatSchedules(list: ScheduleSummary[], outcomes: Map<string, ScheduleRunOutcomes> = new Map()): string {
  if (list.length === 0) return 'no rotation or backup schedules\n';
  return (
    list
      .map((s) => {
        const every = s.spec?.intervals?.[0]?.every;
        const next = s.info.nextActionTimes[0]?.toISOString() ?? '-';
        const last = s.info.recentActions.at(-1)?.takenAt.toISOString() ?? 'never';
        const outcome = outcomes.get(s.scheduleId);
        const line = `${s.scheduleId}  ${s.state.paused ? 'paused' : 'active'}  every ${every !== undefined ? `${Math.round(Number(every) / 60_000)}m` : '?'}  next ${next}  last ${last}${outcome?.lastStatus ? ` ${outcome.lastStatus.toLowerCase()}` : ''}${s.state.note ? `  (${s.state.note})` : ''}`;
        if (!outcome || outcome.failedRecent === 0) return line;
        const runs = s.scheduleId.startsWith(BACKUP_SCHEDULE_PREFIX) ? 'backups' : 'rotations';
        return `${line}\n  ! ${outcome.failedRecent} of the last ${outcome.recent} ${runs} failed${outcome.lastStatus && FAILED_STATUSES.has(outcome.lastStatus) ? `, the last one too: kubeha status ${outcome.lastWorkflowId}` : ''}`;
      })
      .join('\n') + '\n'
  );
}

/** The schedule id from `--cluster NAME` (its rotation schedule, or with `backup` its etcd backup schedule) or an explicit id. */
export function scheduleIdOf(target: { cluster?: string; id?: string; backup?: boolean }): string {
  if (target.id) return target.id;
  if (target.cluster) return target.backup ? backupScheduleId(target.cluster) : rotationScheduleId(target.cluster);
  throw new CliError('name the schedule: --cluster NAME or its id', 2);
}

/** pause | unpause | trigger | delete on one schedule. */
export async function scheduleAction(client: Client, action: 'pause' | 'unpause' | 'trigger' | 'delete', scheduleId: string, note?: string): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId);
  try {
    if (action === 'pause') await handle.pause(note ?? 'paused with kubeha schedule pause');
    else if (action === 'unpause') await handle.unpause(note ?? 'unpaused with kubeha schedule unpause');
    else if (action === 'trigger') await handle.trigger();
    else await handle.delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new CliError(`no schedule "${scheduleId}"`, 1);
    throw err;
  }
}

/** Adds `kubeha schedule ...` to the command line. */
export function registerScheduleCommands(program: Command, out: Output = process.stdout): Command {
  const schedule = program.command('schedule').description('the certificate-key rotation and etcd backup schedules (one each per cluster)');

  schedule
    .command('rotate')
    .description('create or update the rotation schedule of a cluster (overlap SKIP; a second call updates it)')
    .requiredOption('--cluster <name>', 'the cluster')
    .option('--every <duration>', 'interval between rotations; with jitter under 110m (uploaded certificates live 2 h)', durationArgument, '90m')
    .option('--jitter <duration>', 'random delay added to each run', durationArgument, '5m')
    .option('--catchup-window <duration>', 'how late a run missed during an outage may still start', durationArgument, '10m')
    .option(
      '-f, --file <input.json>',
      "the cluster's RotateCertificateKey or BootstrapStackedEtcd input (default: the existing schedule's, or the bootstrap run's)",
    )
    .option('--paused', 'create it paused', false)
    .action((options: Omit<ScheduleRotateOptions, 'taskQueue'>) =>
      withKubehaClient(async (client, taskQueue) => {
        const result = await scheduleRotate(client, { ...options, taskQueue });
        out.write(
          `${result.created ? 'created' : 'updated'} schedule ${result.scheduleId}: every ${options.every} (jitter ${options.jitter}, catch-up ${options.catchupWindow}, overlap SKIP), input from ${result.inputFrom}\n`,
        );
      }),
    );

  schedule
    .command('list')
    .description('list the rotation and etcd backup schedules')
    .option('--json', 'print JSON', false)
    .action((options: { json: boolean }) =>
      withKubehaClient(async (client) => {
        const list = await listKubehaSchedules(client);
        const outcomes = new Map(await Promise.all(list.map(async (s) => [s.scheduleId, await scheduleRunOutcomes(client, s)] as const)));
        out.write(
          options.json
            ? `${JSON.stringify(
                list.map((s) => ({
                  scheduleId: s.scheduleId,
                  paused: s.state.paused,
                  note: s.state.note,
                  nextActionTimes: s.info.nextActionTimes,
                  runs: outcomes.get(s.scheduleId),
                })),
                null,
                2,
              )}\n`
            : formatSchedules(list, outcomes),
        );
        // A failing rotation or backup is an operator's problem now: say so in the exit code too.
        if ([...outcomes.values()].some((o) => o.lastStatus !== undefined && FAILED_STATUSES.has(o.lastStatus))) process.exitCode = 1;
      }),
    );

  for (const action of ['pause', 'unpause', 'trigger', 'delete'] as const) {
    const words = { pause: 'pause', unpause: 'resume', trigger: 'start one run now on', delete: 'delete' }[action];
    schedule
      .command(action)
      .description(`${words} a rotation or backup schedule`)
      .argument('[scheduleId]', 'the schedule id (or use --cluster)')
      .option('--cluster <name>', 'the cluster whose rotation schedule it is')
      .option('--backup', "with --cluster: the cluster's etcd backup schedule instead", false)
      .option('--note <text>', 'why (pause/unpause)')
      .action((id: string | undefined, options: { cluster?: string; backup: boolean; note?: string }) =>
        withKubehaClient(async (client) => {
          const scheduleId = scheduleIdOf({ id, cluster: options.cluster, backup: options.backup });
          await scheduleAction(client, action, scheduleId, options.note);
          out.write(`${action === 'delete' ? 'deleted' : action === 'trigger' ? 'triggered' : `${action}d`} ${scheduleId}\n`);
        }),
      );
  }
  return schedule;
}
