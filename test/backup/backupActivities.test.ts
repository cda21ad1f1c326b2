/**
 * The backup activities against REAL peers: a lab host with a real etcd (TLS, kubeadm's PKI) reached
 * over SSH, and moto's S3. A snapshot larger than one part goes up as a multipart upload; the object
 * matches etcd's own status and the host's sha256sum; the CA bundle opens with the codec keys and
 * nothing of it is in a command line; a retried attempt uploads nothing, and one after a killed attempt
 * aborts the upload that attempt left open; pruning leaves foreign objects.
 * Uses the lab: run under `flock /tmp/kubeha-lab.lock`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createBackupActivities } from '../../activities/backup';
import { openCaBundle } from '../../activities/backup/caBundle';
import { backupKeys, listBackups, recordMetadata } from '../../activities/backup/store';
import { PART_BYTES } from '../../activities/backup/stream';
import type { BackupActivities, BackupRecord } from '../../activities/backup/types';
import { verifyBackup } from '../../activities/backup/verify';
import { FileSecretStore } from '../../activities/secrets/store';
import { backupEtcdInputSchema, type BackupStore } from '../../common/inputs/backupEtcd';
import type { HostSpec } from '../../common/inputs/shared';
import { readCommandLog, type LabHost } from '../../lab/hosts';
import { keyringOf } from '../../lib/codec/keyring';
import { createTestLab, type TestLab } from '../lab/hosts/helpers';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/moto';
import { type HostEtcd, startHostEtcd } from './realPeers';

const ADDRESS = '127.0.47.1';
const CLUSTER = 'west';
const SNAPSHOT_DIR = '/etc/kubernetes/kubeha-backup';

describe('backup activities on a real etcd over SSH and moto S3', { timeout: 180_000 }, () => {
  let moto: MotoServer;
  let lab: TestLab;
  let labHost: LabHost;
  let etcd: HostEtcd;
  let s3: S3Client;
  let store: BackupStore;
  let activities: BackupActivities;
  let spec: HostSpec;
  const keyring = keyringOf([{ id: 'test-key', key: randomBytes(32) }]);
  /** Everything the shell streamed to the activity (what becomes heartbeats and logs). */
  const streamed: string[] = [];

  before(async () => {
    moto = await startMoto();
    s3 = new S3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
    await s3.send(new CreateBucketCommand({ Bucket: 'kubeha-backups' }));
    lab = await createTestLab('backup');
    labHost = await lab.start('cp-1', ADDRESS);
    spec = lab.spec(labHost);
    etcd = await startHostEtcd(labHost);
    // Enough data for a snapshot of more than one multipart part.
    await etcd.fill(700, 16 * 1024);
    store = backupEtcdInputSchema.parse({
      clusterName: CLUSTER,
      hosts: [spec],
      store: { bucket: 'kubeha-backups', region: moto.region, endpoint: moto.endpoint },
    }).store;
    activities = createBackupActivities({
      shell: lab.shell,
      secrets: new FileSecretStore(path.join(lab.labDir, 'secrets')),
      keyring: () => keyring,
      s3For: () => s3,
      runOptions: () => ({ onOutput: (_stream, chunk) => streamed.push(chunk) }),
    });
  });
  after(async () => {
    await etcd?.stop();
    await lab?.close();
    s3?.destroy();
    await moto?.stop();
  });

  test('the voter is the host whose member answers; a host that does not answer is passed over', async () => {
    const down: HostSpec = { ...spec, name: 'cp-2', address: '127.0.47.2' };
    const choice = await activities.selectEtcdVoter({ hosts: [down, spec] });
    assert.equal(choice.host, 'cp-1');
    assert.equal(choice.skipped.length, 1);
    assert.equal(choice.skipped[0].host, 'cp-2');
  });

  test('a snapshot is streamed to S3 in parts, matches etcd and the host, and leaves no file behind', async () => {
    const input = { clusterName: CLUSTER, backupId: '20261205T200000Z-0000aaaa', host: spec, store, snapshotDir: SNAPSHOT_DIR };
    const before = readCommandLog(labHost.paths.commandsLog).length;
    const { record, uploaded } = await activities.backupEtcdSnapshot(input);
    assert.equal(uploaded, true);
    assert.ok(record.totalKeys >= 700, `${record.totalKeys} keys`);
    assert.ok(record.revision >= 700);
    assert.ok(record.bytes > PART_BYTES, `a snapshot of ${record.bytes} bytes needs more than one part`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: record.snapshotKey }));
    assert.equal(head.ContentLength, record.bytes);
    assert.equal(head.ServerSideEncryption, 'AES256');
    assert.equal(head.Metadata?.sha256, record.sha256);
    const report = await verifyBackup(s3, store, keyring, CLUSTER, record.backupId);
    assert.ok(report.ok, JSON.stringify(report.checks));

    // The CA bundle opens with the codec keys and holds the host's own files.
    const sealed = await s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: record.caBundleKey }));
    const sealedBytes = Buffer.from(await (sealed.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    assert.equal(sealedBytes.includes('PRIVATE KEY'), false, 'the bundle is sealed');
    const bundle = openCaBundle(keyring, sealedBytes);
    assert.equal(bundle.files['ca.key'], readFileSync(path.join(labHost.rootDir, 'etc/kubernetes/pki/ca.key'), 'utf8'));
    assert.equal(bundle.files['etcd/ca.key'], readFileSync(path.join(labHost.rootDir, 'etc/kubernetes/pki/etcd/ca.key'), 'utf8'));
    assert.deepEqual(bundle.missing, []);
    await assert.rejects(async () => openCaBundle(keyringOf([{ id: 'test-key', key: randomBytes(32) }]), sealedBytes));

    // No line of a key was streamed toward heartbeats or logs.
    const keyLines = ['ca.key', 'sa.key', 'front-proxy-ca.key', 'etcd/ca.key'].flatMap((f) =>
      readFileSync(path.join(labHost.rootDir, 'etc/kubernetes/pki', f), 'utf8')
        .split('\n')
        .filter((l) => l.length > 20 && !l.startsWith('-----')),
    );
    assert.ok(keyLines.length > 4);
    assert.equal(streamed.filter((chunk) => keyLines.some((l) => chunk.includes(l)) || chunk.includes('PRIVATE KEY')).length, 0);
    // No key material reached a command line; the snapshot file is gone from the host.
    const commands = readCommandLog(labHost.paths.commandsLog).slice(before);
    assert.ok(commands.some((c) => c.command.includes('snapshot save')));
    assert.equal(commands.filter((c) => /PRIVATE KEY|BEGIN/.test(c.command)).length, 0);
    const left = await lab.sh(labHost, `ls -A ${SNAPSHOT_DIR}; stat -c %a ${SNAPSHOT_DIR}`);
    assert.equal(left.stdout.trim(), '700', 'the directory is 0700 and empty');

    // A retried attempt finds the backup and takes no snapshot.
    const logged = readCommandLog(labHost.paths.commandsLog).length;
    const again = await activities.backupEtcdSnapshot(input);
    assert.equal(again.uploaded, false);
    assert.deepEqual(again.record, record);
    assert.equal(readCommandLog(labHost.paths.commandsLog).length, logged, 'no command ran on the host');
  });

  test("pruning keeps the newest complete backups, deletes only kubeha's own older ones", async () => {
    // An older complete backup, and folders of crashed attempts (no snapshot metadata) around it.
    const complete = backupKeys(store, CLUSTER, '20261205T190000Z-0000cccc');
    const meta = recordMetadata({
      backupId: '20261205T190000Z-0000cccc',
      clusterName: CLUSTER,
      host: 'cp-1',
      createdAt: '',
      sha256: '',
      hash: 1,
      revision: 1,
      totalKeys: 1,
      totalSize: 1,
    } as BackupRecord);
    await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: complete.snapshot, Body: 'y', Metadata: meta }));
    for (const id of ['20261205T180000Z-0000bbbb', '20261205T195000Z-0000eeee']) {
      await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: backupKeys(store, CLUSTER, id).caBundle, Body: 'x' }));
    }
    const foreign = `${store.prefix}${CLUSTER}/notes/readme.txt`;
    await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: foreign, Body: 'keep me' }));
    const other = `${store.prefix}east/20261205T100000Z-0000dddd/snapshot.db`;
    await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: other, Body: 'another cluster' }));

    const pruned = await activities.pruneBackups({ clusterName: CLUSTER, store, keep: 2, protect: '20261205T200000Z-0000aaaa' });
    assert.deepEqual(pruned.kept, ['20261205T200000Z-0000aaaa', '20261205T195000Z-0000eeee', '20261205T190000Z-0000cccc']);
    assert.deepEqual(pruned.deleted, ['20261205T180000Z-0000bbbb'], 'the crashed attempt older than every kept backup goes');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: store.bucket }));
    const keys = (listed.Contents ?? []).map((c) => c.Key);
    assert.ok(keys.includes(foreign) && keys.includes(other));
    assert.equal(
      keys.some((k) => k?.includes('0000bbbb')),
      false,
    );
    // Only complete backups are listed.
    assert.deepEqual(
      (await listBackups(s3, store, CLUSTER)).map((r) => r.backupId),
      ['20261205T200000Z-0000aaaa', '20261205T190000Z-0000cccc'],
    );
  });

  test("a retry aborts the multipart upload its killed predecessor left open for the backup's key, and only that one", async () => {
    const backupId = '20261205T210000Z-0000ffff';
    const key = backupKeys(store, CLUSTER, backupId).snapshot;
    // What a worker SIGKILLed mid-upload leaves: an open upload with one part, which nothing aborted.
    const left = await s3.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: key }));
    await s3.send(new UploadPartCommand({ Bucket: store.bucket, Key: key, UploadId: left.UploadId, PartNumber: 1, Body: Buffer.alloc(PART_BYTES, 1) }));
    const otherKey = backupKeys(store, CLUSTER, '20261205T205000Z-0000abab').snapshot;
    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: otherKey }));

    const { record, uploaded } = await activities.backupEtcdSnapshot({ clusterName: CLUSTER, backupId, host: spec, store, snapshotDir: SNAPSHOT_DIR });
    assert.equal(uploaded, true);
    assert.ok(record.bytes > PART_BYTES, 'the retry itself went up in parts');
    const open = (await s3.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }))).Uploads ?? [];
    assert.deepEqual(
      open.map((u) => [u.Key, u.UploadId]),
      [[otherKey, other.UploadId]],
      "the killed attempt's upload is gone; another backup's is left alone",
    );
    assert.ok((await verifyBackup(s3, store, keyring, CLUSTER, backupId)).ok);
  });
});
