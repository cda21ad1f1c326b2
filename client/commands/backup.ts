/**
 * `kubeha schedule backup` and `kubeha backup list|verify`: a cluster's etcd backups.
 *
 *   kubeha schedule backup --cluster west --every 1h --keep 24 [-f backup.json]
 *   kubeha backup list --cluster west [--json] [-f backup.json]
 *   kubeha backup verify --cluster west [--id BACKUP_ID] [-f backup.json]
 *
 * The BackupEtcd input (hosts, bucket, prefix, encryption) comes from `-f`, else from the cluster's
 * backup schedule. list and verify read S3 with the machine's AWS credentials and open the CA bundle
 * with kubeha's codec keys (the same ones the worker sealed it with).
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { type Command, InvalidArgumentError } from 'commander';
import { ensureBackupSchedule, scheduledBackupInput } from '../../activities/backup/schedule';
import { listBackups, s3ClientFor } from '../../activities/backup/store';
import { verifyBackup } from '../../activities/backup/verify';
import { type BackupEtcdInput, backupEtcdInputSchema, backupScheduleId } from '../../common/inputs/backupEtcd';
import { failureInfo } from '../../common/errors';
import { inputIssues } from '../../common/validation';
import { loadKeyring } from '../../lib/codec/keyring';
import { CliError, durationArgument, requireCommandKeys, withKubehaClient } from '../connection';
import { formatBackups } from './backupFormat';

interface Output {
  write(text: string): unknown;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

/** A BackupEtcd input from a file, validated, for the named cluster. */
export function backupInputFromFile(file: string, cluster: string): BackupEtcdInput {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read ${file} as JSON: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
  }
  const parsed = backupEtcdInputSchema.safeParse(raw);
  if (!parsed.success)
    throw new CliError(
      `${file} is not a BackupEtcd input:\n${inputIssues(parsed.error)
        .map((i) => `  ${i.path}: ${i.message}`)
        .join('\n')}`,
      2,
    );
  if (parsed.data.clusterName !== cluster) throw new CliError(`${file} is for cluster "${parsed.data.clusterName}", not "${cluster}"`, 2);
  return raw as BackupEtcdInput;
}

async function inputOf(client: Client, cluster: string, file?: string): Promise<BackupEtcdInput> {
  const input = file ? backupInputFromFile(file, cluster) : await scheduledBackupInput(client, cluster);
  if (!input) throw new CliError(`no BackupEtcd input for "${cluster}": give -f, or create the schedule ${backupScheduleId(cluster)} first`, 2);
  return input;
}

/** Adds `schedule backup` under `schedule`, and `backup list|verify`. */
export function registerBackupCommands(program: Command, schedule: Command, out: Output = process.stdout): void {
  schedule
    .command('backup')
    .description('create or update the etcd backup schedule of a cluster (overlap SKIP; a second call updates it)')
    .requiredOption('--cluster <name>', 'the cluster')
    .option('--every <duration>', 'interval between backups', durationArgument, '1h')
    .option('--keep <count>', "how many backups to keep (default: the input's, else 24)", positive)
    .option('--jitter <duration>', 'random delay added to each run', durationArgument, '2m')
    .option('--catchup-window <duration>', 'how late a run missed during an outage may still start', durationArgument, '10m')
    .option('-f, --file <input.json>', "the cluster's BackupEtcd input (default: the existing schedule's)")
    .option('--paused', 'create it paused', false)
    .action((o: { cluster: string; every: string; keep?: number; jitter: string; catchupWindow: string; file?: string; paused: boolean }) =>
      withKubehaClient(async (client, taskQueue) => {
        const input = await inputOf(client, o.cluster, o.file);
        const workflowInput = o.keep ? { ...input, keep: o.keep } : input;
        try {
          const result = await ensureBackupSchedule(client, {
            clusterName: o.cluster,
            schedule: { every: o.every, jitter: o.jitter, catchupWindow: o.catchupWindow, paused: o.paused },
            workflowInput,
            taskQueue,
          });
          out.write(
            `${result.created ? 'created' : 'updated'} schedule ${result.scheduleId}: every ${o.every}, keep ${workflowInput.keep ?? 24} (overlap SKIP)\n`,
          );
        } catch (err) {
          if (failureInfo(err)?.issues) throw new CliError((err as Error).message, 2);
          throw err;
        }
      }),
    );

  const backup = program.command('backup').description("a cluster's etcd backups in S3");
  backup
    .command('list')
    .description('list the stored backups of a cluster, newest first (time, revision, size, keys)')
    .requiredOption('--cluster <name>', 'the cluster')
    .option('-f, --file <input.json>', "the cluster's BackupEtcd input (default: the backup schedule's)")
    .option('--json', 'print JSON', false)
    .action((o: { cluster: string; file?: string; json: boolean }) =>
      withKubehaClient(async (client) => {
        const store = backupEtcdInputSchema.parse(await inputOf(client, o.cluster, o.file)).store;
        const records = await listBackups(s3ClientFor(store), store, o.cluster);
        out.write(o.json ? `${JSON.stringify(records, null, 2)}\n` : formatBackups(records));
      }),
    );
  backup
    .command('verify')
    .description('download one backup, check its size and SHA-256 against its metadata, open its CA bundle with the codec keys')
    .requiredOption('--cluster <name>', 'the cluster')
    .option('--id <backupId>', 'the backup (default: the newest)')
    .option('-f, --file <input.json>', "the cluster's BackupEtcd input (default: the backup schedule's)")
    .action((o: { cluster: string; id?: string; file?: string }) =>
      withKubehaClient(async (client) => {
        requireCommandKeys('kubeha backup verify');
        const store = backupEtcdInputSchema.parse(await inputOf(client, o.cluster, o.file)).store;
        const s3 = s3ClientFor(store);
        const id = o.id ?? (await listBackups(s3, store, o.cluster))[0]?.backupId;
        if (!id) throw new CliError(`no stored backup of "${o.cluster}"`, 1);
        const report = await verifyBackup(s3, store, loadKeyring().keyring, o.cluster, id);
        out.write(`${id}\n${report.checks.map((c) => `  ${c.ok ? '√' : '×'} ${c.name}: ${c.detail}`).join('\n')}\n`);
        if (!report.ok) process.exitCode = 1;
      }),
    );
}
