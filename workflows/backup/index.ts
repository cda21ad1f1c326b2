/**
 * BackupEtcd: one etcd backup of a cluster, run on a Temporal Schedule (`kubeha schedule backup`). On a
 * healthy voter, holding the cluster lock (never beside a join or a recovery), a snapshot is taken,
 * checked, and streamed to S3 with the cluster's CA material sealed by kubeha's codec keys; then the
 * oldest backups beyond `keep` are deleted.
 */
import { setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { BACKUP_STEPS, backupEtcdInputSchema } from '../../common/inputs/backupEtcd';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { parseInput } from '../../common/validation';
import { progressQuery, ProgressTracker } from '../engine/progress';
import { runStepTable, type Step } from '../engine/steps';
import { clusterSubject } from '../engine/subject';
import { type BackupContext, backupContext } from './data';
import { pruneSkipReason, pruneStep } from './prune';
import { type BackupResult, resultOf } from './result';
import { selectVoterStep } from './selectVoter';
import { snapshotStep } from './snapshot';

export type { BackupResult } from './result';

/** The steps of BackupEtcd, in order (names in BACKUP_STEPS). */
export const BACKUP_STEP_TABLE: readonly Step<BackupContext>[] = [
  {
    name: 'select-voter',
    description: 'etcdctl member list and endpoint health through the control-plane hosts; the first whose member is a healthy voter takes the snapshot.',
    run: selectVoterStep,
  },
  {
    name: 'snapshot',
    description:
      'Holding the cluster lock (or skipped with the reason after lockWaitSeconds): etcdctl snapshot save to a 0600 file, etcdutl snapshot status, the sealed CA bundle and the snapshot streamed to S3, the file removed; an attempt that finds the backup in S3 stores nothing.',
    skipReason: (ctx) => (ctx.config.dryRun ? `dry run: would store backup ${ctx.backupId}` : undefined),
    run: snapshotStep,
  },
  {
    name: 'prune',
    description: "kubeha's backups of this cluster beyond the newest `keep` deleted (other objects under the prefix are left alone).",
    skipReason: pruneSkipReason,
    run: pruneStep,
  },
];

/** Backs up one cluster's etcd. Takes ONE object (the Web UI form's one value). */
export async function BackupEtcd(rawInput: unknown): Promise<BackupResult> {
  const tracker = new ProgressTracker('BackupEtcd', clusterSubject(rawInput), BACKUP_STEPS);
  setHandler(progressQuery, () => tracker.progress);
  const config = parseInput('BackupEtcd', backupEtcdInputSchema, rawInput);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: config.clusterName }]);
  const info = workflowInfo();
  const context = backupContext(config, tracker, info.workflowId, info.startTime);
  tracker.setFact('backup id', context.backupId);
  await runStepTable(BACKUP_STEP_TABLE, context, tracker, config);
  tracker.setPhase('succeeded');
  return resultOf(context);
}
