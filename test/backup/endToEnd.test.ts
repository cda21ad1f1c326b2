/**
 * BackupEtcd end to end with its REAL activities on a Temporal dev server: a lab host with a real etcd
 * over SSH, moto's S3. The run stores a complete backup that verifies, and no line of a CA key is in
 * the run's history (raw or base64), while the backup id, known to be there, is found by the same scan.
 * Uses the lab: run under `flock /tmp/kubeha-lab.lock`.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createBackupActivities } from '../../activities/backup';
import { verifyBackup } from '../../activities/backup/verify';
import { FileSecretStore } from '../../activities/secrets/store';
import { backupEtcdInputSchema, type BackupEtcdInput } from '../../common/inputs/backupEtcd';
import type { LabHost } from '../../lab/hosts';
import { keyringOf } from '../../lib/codec/keyring';
import type { BackupResult } from '../../workflows/backup';
import { createTestLab, type TestLab } from '../lab/hosts/helpers';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/moto';
import { startTestTemporal } from '../support/temporal';
import { backupBundle } from './harness';
import { type HostEtcd, startHostEtcd } from './realPeers';

let env: TestWorkflowEnvironment;
let moto: MotoServer;
let lab: TestLab;
let labHost: LabHost;
let etcd: HostEtcd;
let s3: S3Client;

before(async () => {
  env = await startTestTemporal();
  moto = await startMoto();
  s3 = new S3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: 'kubeha-e2e' }));
  lab = await createTestLab('backup-e2e');
  labHost = await lab.start('cp-1', '127.0.47.11');
  etcd = await startHostEtcd(labHost);
  await etcd.fill(50, 1024);
});
after(async () => {
  await etcd?.stop();
  await lab?.close();
  s3?.destroy();
  await moto?.stop();
  await env?.teardown();
});

test('a BackupEtcd run stores a backup that verifies; no CA key line is in its history', { timeout: 120_000 }, async () => {
  const keyring = keyringOf([{ id: 'e2e', key: randomBytes(32) }]);
  const activities = createBackupActivities({
    shell: lab.shell,
    secrets: new FileSecretStore(path.join(lab.labDir, 'secrets')),
    keyring: () => keyring,
    s3For: () => s3,
  });
  const input: BackupEtcdInput = {
    clusterName: 'west',
    hosts: [lab.spec(labHost)],
    store: { bucket: 'kubeha-e2e', region: moto.region, endpoint: moto.endpoint },
    snapshotDir: '/etc/kubernetes/kubeha-backup',
    keep: 3,
    onFailure: 'fail',
  };
  const taskQueue = `backup-e2e-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await backupBundle(), activities });
  const { result, history } = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('BackupEtcd', { args: [input], taskQueue, workflowId: `backup-etcd-west-${randomUUID()}` });
    const result = (await handle.result()) as BackupResult;
    return { result, history: await handle.fetchHistory() };
  });
  assert.equal(result.uploaded, true);
  assert.ok((result.record?.totalKeys ?? 0) >= 50);
  const report = await verifyBackup(s3, backupEtcdInputSchema.parse(input).store, keyring, 'west', result.backupId);
  assert.ok(report.ok, JSON.stringify(report.checks));

  const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
  assert.ok(raw.includes(result.backupId), 'the scan sees what is in the history');
  const keyLines = ['ca.key', 'sa.key', 'front-proxy-ca.key', 'etcd/ca.key'].flatMap((f) =>
    readFileSync(path.join(labHost.rootDir, 'etc/kubernetes/pki', f), 'utf8')
      .split('\n')
      .filter((l) => l.length > 20 && !l.startsWith('-----')),
  );
  const found = keyLines.filter((l) => raw.includes(l) || raw.includes(Buffer.from(l).toString('base64')));
  assert.deepEqual(found, []);
  assert.equal(raw.includes('PRIVATE KEY'), false);
});
