/**
 * The BackupEtcd crash point: a primary-only west lab bootstrapped by kubeha, filled until etcd's
 * snapshot needs a multipart upload of several parts, then BackupEtcd with kubeha's real activities
 * and the lab's moto S3. The worker is SIGKILLed while backupEtcdSnapshot reads the second part from
 * the host (the first part is in S3, the upload open); another worker takes over. Judged from S3: one
 * complete backup for the run's id and nothing else in its folder, no multipart upload left open for
 * its key, and the backup verifies (kubeha backup verify's check).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, type MultipartUpload, S3Client } from '@aws-sdk/client-s3';
import { backupKeys, listBackups } from '../../../activities/backup/store';
import { PART_BYTES, SLICE_BYTES } from '../../../activities/backup/stream';
import { verifyBackup } from '../../../activities/backup/verify';
import { FileSecretStore } from '../../../activities/secrets/store';
import { backupEtcdInputSchema, type BackupEtcdInput, clusterBackupPrefix } from '../../../common/inputs/backupEtcd';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { loadKeyring } from '../../../lib/codec/keyring';
import type { BackupResult } from '../../../workflows/backup';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../support/moto';
import type { Arena } from './arena';
import { describeTrigger, type Trigger, waitForTrigger } from './observe';
import { killAndResume, outcome } from './pointKit';
import { commandCount, commandsSince } from './records';
import type { PointResult } from './runPoint';

const BUCKET = 'kubeha-crash-backups';
/** ConfigMaps of 768 KiB (under the API's 1 MiB): 24 of them make a snapshot of about 20 MiB, three parts. */
const FILL = { count: 24, bytes: 768 * 1024 };
/** The slice read as the kill comes: the second part's fifth, so part 1 is uploaded and the upload is open. */
const KILL_SLICE = PART_BYTES / SLICE_BYTES + 4;

/** Every multipart upload still open under `prefix`. */
async function openUploads(s3: S3Client, prefix: string): Promise<MultipartUpload[]> {
  const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }));
  return out.Uploads ?? [];
}

/** Runs the point (see the header); problems land in `result`. */
export async function backupPoint(arena: Arena, result: PointResult): Promise<void> {
  const lab = arena.labUp;
  const primary = lab.state.hosts[0];
  const trigger: Trigger = {
    kind: 'command',
    host: primary.name,
    pattern: new RegExp(`dd if=\\S+ bs=${SLICE_BYTES} skip=${KILL_SLICE} count=1`),
    label: `dd slice ${KILL_SLICE} (part 2)`,
  };
  result.trigger = describeTrigger(trigger);
  await arena.startWorker();
  const cluster = arena.bootstrapInput('fail');
  await outcome(await arena.start('BootstrapStackedEtcd', 'crash-backup-bootstrap', cluster));

  const secrets = new FileSecretStore(path.join(arena.dataDir, 'secrets'));
  const api = new KubeClient(parseKubeconfig(await secrets.get(`clusters/${cluster.clusterName}/admin-kubeconfig`)));
  for (let i = 0; i < FILL.count; i++) {
    const data = { blob: randomBytes((FILL.bytes * 3) / 4).toString('base64') };
    await api.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `ballast-${i}` }, data });
  }

  const endpoint = lab.state.aws!.motoEndpoint;
  const s3 = new S3Client({ region: MOTO_REGION, endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const input: BackupEtcdInput = {
      clusterName: cluster.clusterName,
      hosts: cluster.hosts,
      store: { bucket: BUCKET, region: MOTO_REGION, endpoint },
      // Inside the lab host's own /etc/kubernetes (the default path is not one the lab host owns).
      snapshotDir: '/etc/kubernetes/kubeha-backup',
      keep: 3,
      onFailure: 'fail',
    };
    const store = backupEtcdInputSchema.parse(input).store;
    const mark = commandCount(lab, primary.name);
    const handle = await arena.start('BackupEtcd', 'crash-backup', input);
    const approximately = await waitForTrigger(handle, lab, trigger, 10 * 60_000);
    if (approximately) result.notes.push(approximately);
    await killAndResume(arena, handle, result);
    const folder = clusterBackupPrefix(store, cluster.clusterName);
    const atKill = await openUploads(s3, folder);
    const parts = atKill[0] ? ((await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: atKill[0].Key, UploadId: atKill[0].UploadId }))).Parts ?? []) : [];
    result.notes.push(`open multipart uploads just after the kill: ${atKill.length} (${parts.length} part(s) in S3)`);

    const end = await outcome<BackupResult>(handle, 10 * 60_000);
    result.completed = true;
    const keys = backupKeys(store, cluster.clusterName, end.backupId);
    const saves = commandsSince(lab, primary.name, /etcdctl[^\n]* snapshot save/, mark);
    result.notes.push(`backup ${end.backupId}: ${end.record?.bytes ?? '?'} bytes, uploaded=${end.uploaded}; snapshots taken ${saves}`);
    if (!end.record || end.record.bytes <= PART_BYTES)
      result.problems.push(`the snapshot (${end.record?.bytes} bytes) fits one part: no multipart upload was tested`);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: keys.snapshot.replace(/snapshot\.db$/, '') }));
    const objects = (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
    const want = [keys.caBundle, keys.snapshot].sort();
    if (objects.join(',') !== want.join(',')) result.problems.push(`the backup's folder holds ${objects.join(', ') || 'nothing'}, expected ${want.join(', ')}`);
    const complete = (await listBackups(s3, store, cluster.clusterName)).map((r) => r.backupId);
    if (complete.join(',') !== end.backupId) result.problems.push(`complete backups ${complete.join(', ') || 'none'}, expected only ${end.backupId}`);
    const stray = (await openUploads(s3, folder)).filter((u) => u.Key === keys.snapshot);
    if (stray.length) result.problems.push(`${stray.length} incomplete multipart upload(s) left open for ${keys.snapshot}`);
    result.duplicates = stray.length + Math.max(0, complete.length - 1);
    const keyring = loadKeyring({ ...process.env, KUBEHA_DATA_DIR: arena.dataDir }).keyring;
    const report = await verifyBackup(s3, store, keyring, cluster.clusterName, end.backupId);
    if (!report.ok) result.problems.push(`verify: ${report.checks.map((c) => `${c.name} ${c.ok ? 'ok' : c.detail}`).join('; ')}`);
  } finally {
    s3.destroy();
  }
}
