/**
 * Which backups `pruneBackups` deletes. Only complete backups count toward `keep`, so the folders of
 * crashed attempts never push a good backup out; such a folder is deleted once it is older than the
 * oldest backup kept (a newer one may belong to a run still writing it).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { deleteBackups, listBackupIds, listBackups } from './store';
import type { PruneBackupsInput, PruneResult } from './types';

/** The decision alone: ids newest first, the complete ones, how many to keep, and one never deleted. */
export function pruneDecision(ids: readonly string[], complete: ReadonlySet<string>, keep: number, protect?: string): PruneResult {
  const keptComplete = ids.filter((id) => complete.has(id)).slice(0, keep);
  const oldestKept = keptComplete.at(-1);
  const kept = ids.filter((id) => keptComplete.includes(id) || id === protect || (!complete.has(id) && (oldestKept === undefined || id > oldestKept)));
  return { kept, deleted: ids.filter((id) => !kept.includes(id)) };
}

/** Deletes kubeha's backups of the cluster beyond the newest `keep` complete ones. */
export async function pruneBackups(s3: S3Client, input: PruneBackupsInput): Promise<PruneResult> {
  const ids = await listBackupIds(s3, input.store, input.clusterName);
  const complete = new Set((await listBackups(s3, input.store, input.clusterName)).map((r) => r.backupId));
  const decision = pruneDecision(ids, complete, input.keep, input.protect);
  await deleteBackups(s3, input.store, input.clusterName, decision.deleted);
  return decision;
}
