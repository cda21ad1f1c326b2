/**
 * Every member of west loses its etcd data, on the bootstrap end to end's lab: BackupEtcd (real
 * activities) stores a snapshot holding a canary in the lab's S3 (moto behind the lab AWS front); a
 * ConfigMap written after it stands for the writes a backup cannot save; `lab fault etcd-wipe` on all
 * four voters leaves no survivor. RecoverControlPlane with `snapshot` restores the backup on the first
 * control plane: the canary reads back through the load balancer, the later write is gone (the data-loss
 * window the run reports), writes work, and the three others are reset and rejoined one at a time until
 * etcd has its four voters again, with `kubeadm init` still run once over the cluster's life.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { FileSecretStore } from '../../../activities/secrets/store';
import type { RecoverControlPlaneInput } from '../../../common/inputs/recoverControlPlane';
import type { Progress } from '../../../common/progress';
import { labHostPaths } from '../../../lab/hosts/layout';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { LAB_AWS_ENVIRONMENT } from '../../../lab/orchestrator/awsEnvironment';
import { labFault } from '../../../lab/orchestrator';
import type { BackupResult } from '../../../workflows/backup';
import type { RecoverResult } from '../../../workflows/recover';
import { eventually } from '../../support/workflowHarness';
import { etcdMembers, kubeadmRuns } from './support';
import { frontStatus } from './labWorkerRun';
import type { ZoneLossContext } from './zoneLoss';

const BUCKET = 'kubeha-e2e-backups';

/** The last lines of a lab host's kubelet log and of its etcd and kube-apiserver logs. */
function logTails(labDir: string, host: string, lines = 30): string {
  const dir = labHostPaths(labDir, host).hostLabDir;
  return ['kubelet.log', 'pods/etcd.log', 'pods/kube-apiserver.log']
    .map((file) => {
      const at = path.join(dir, file);
      const text = existsSync(at) ? readFileSync(at, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(none)';
      return `--- ${host}: ${file} (last ${lines} lines)\n${text}`;
    })
    .join('\n');
}

function configMap(name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

/** The result, or the failure chain written out whole (it names the step, the host and the output). */
async function resultOf<T>(handle: { result(): Promise<unknown> }): Promise<T> {
  return (await handle.result().catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify((err as { cause?: unknown }).cause, null, 1)}`);
  })) as T;
}

export async function restoreFromSnapshot(c: ZoneLossContext): Promise<void> {
  const hosts = c.lab.state.hosts;
  const voters = hosts.filter((h) => h.role !== 'worker');
  const [first, ...others] = voters;
  const endpoint = c.lab.state.aws!.endpoint;
  const store = { bucket: BUCKET, region: LAB_AWS_ENVIRONMENT.AWS_REGION, endpoint };
  const s3 = new S3Client({
    region: store.region,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: LAB_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: LAB_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3.destroy();
  const api = new KubeClient(parseKubeconfig(await new FileSecretStore(path.join(c.dataDir, 'secrets')).get(c.kubeconfigSecret)));
  await api.create('/api/v1/namespaces/default/configmaps', configMap('backed-up', { song: 'chirp' }));

  const backup = await c.client.workflow.start('BackupEtcd', {
    taskQueue: c.taskQueue,
    workflowId: 'e2e-backup-before-wipe',
    args: [{ clusterName: c.input.clusterName, hosts: c.input.hosts, store, keep: 3, onFailure: 'fail' }],
  });
  const stored = await resultOf<BackupResult>(backup);
  assert.ok(stored.record, 'a backup is stored');
  await api.create('/api/v1/namespaces/default/configmaps', configMap('after-backup', { song: 'lost' }));

  const wipedAt = Date.now();
  for (const h of voters) assert.match(await labFault('etcd-wipe', [h.name], c.dataDir), /etcd data on .* lost/);
  await eventually(async () => (await frontStatus(endpoint)).loadBalancers[0].targets.every((t) => t.state !== 'healthy'), 60_000, 'every target unhealthy');

  const input: RecoverControlPlaneInput = {
    cluster: c.input,
    precheck: { windowSeconds: 4, intervalSeconds: 2 },
    approval: { required: false },
    rejoin: { waitMinutes: 15, pollSeconds: 3 },
    snapshot: { host: first.name, store },
    onFailure: 'fail',
  };
  c.timings.wipedToUnhealthyMs = Date.now() - wipedAt;
  const handle = await c.client.workflow.start('RecoverControlPlane', { taskQueue: c.taskQueue, workflowId: 'e2e-recover-from-backup', args: [input] });
  let last: Progress | undefined;
  const serving = await eventually(
    async () => {
      last = await handle.query<Progress>('progress');
      return last.steps.find((s) => s.step === 'verify-serving')?.state === 'done' ? last : undefined;
    },
    300_000,
    'the restored first control plane serving',
  ).catch((err: Error) => {
    // The run's steps and the restored host's own logs explain a restore that never served.
    const steps = last?.steps
      .map(
        (st) =>
          `${st.step} ${st.state} ${st.reason ?? ''} ${st.message ?? ''}${st.hosts.map((h) => ` [${h.host}: ${h.reason ?? ''} ${h.message ?? ''}]`).join('')}`,
      )
      .join('; ');
    throw new Error(`${err.message}; the run: ${last?.phase}, ${steps}\n${logTails(c.lab.paths.labDir, first.name)}`);
  });
  c.timings.wipedToServingMs = Date.now() - wipedAt;
  assert.match(
    serving.facts['data-loss window'] ?? '',
    new RegExp(`backup ${stored.backupId} taken .* at revision ${stored.record.revision}; writes after it are gone`),
  );
  assert.deepEqual((await api.get('/api/v1/namespaces/default/configmaps/backed-up')).data, { song: 'chirp' }, 'what the backup held reads back');
  assert.equal(await api.find('/api/v1/namespaces/default/configmaps/after-backup'), undefined, 'a write after the backup is gone');
  await api.create('/api/v1/namespaces/default/configmaps', configMap('after-snapshot-restore', {}));
  assert.deepEqual(
    (await etcdMembers(c.lab.paths.labDir, first)).map((m) => m.name),
    [first.name],
    'the restored member is a one-member cluster',
  );

  const result = await resultOf<RecoverResult>(handle);
  c.timings.snapshotRecoveryMs = Date.now() - wipedAt;
  assert.equal(result.outcome, 'recovered');
  assert.equal(result.survivor, first.name);
  assert.equal(result.fromBackup?.backupId, stored.backupId);
  assert.deepEqual([...result.rejoined].sort(), others.map((h) => h.name).sort());
  const members = await etcdMembers(c.lab.paths.labDir, first);
  assert.deepEqual(members.map((m) => m.name).sort(), voters.map((h) => h.name).sort());
  assert.ok(members.every((m) => !m.isLearner));
  assert.ok(await api.get('/api/v1/namespaces/default/configmaps/after-snapshot-restore'), 'the write after the restore survived the rejoins');
  const inits = hosts.reduce((n, h) => n + kubeadmRuns(c.lab.paths.labDir, h.name, 'init'), 0);
  assert.equal(inits, 1, 'kubeadm init ran exactly once over the cluster life');
  const progress = await handle.query<Progress>('progress');
  assert.equal(progress.steps.find((s) => s.step === 'verify')?.state, 'done');
  for (const s of progress.steps) c.timings[`snapshot:${s.step}`] = s.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : -1;
}
