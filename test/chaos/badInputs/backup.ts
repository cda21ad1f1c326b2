/**
 * Bad inputs of BackupEtcd, each one mutation of the backup tests' valid input.
 */
import { input } from '../../backup/harness';
import { type BadInputCase, buildCases, type CaseSpec, drop, hostCases, manyHosts, replace, runOptionCases, set, setFrom, wholeInputCases } from './cases';

/** Two control planes and a worker of cluster west, backed up to one bucket. */
export function validBackupInput(): Record<string, unknown> {
  return input() as unknown as Record<string, unknown>;
}

const hosts = (i: Record<string, unknown>) => i.hosts as Array<Record<string, unknown>>;

const specs: CaseSpec[] = [
  ...wholeInputCases(),
  ['an empty object', 'clusterName', /expected string/i, replace(() => ({}))],
  ['clusterName missing', 'clusterName', /expected string/i, drop('clusterName')],
  ['clusterName with a path traversal (it names the S3 folder)', 'clusterName', /DNS-1123/, set('clusterName', '../east')],
  ['clusterName with a shell command', 'clusterName', /DNS-1123/, set('clusterName', '$(reboot)')],
  ['no hosts', 'hosts', /at least one host/, set('hosts', [])],
  ['hosts as one host object', 'hosts', /expected array/i, setFrom('hosts', (i) => hosts(i)[0])],
  ['501 hosts', 'hosts', /<=\s*500/, setFrom('hosts', (i) => manyHosts(hosts(i), 0, 501, 'worker'))],
  ['only workers', 'hosts', /needs at least one host with role/, setFrom('hosts', (i) => hosts(i).map((h) => ({ ...h, role: 'worker' })))],
  ['two hosts with one name', 'hosts[1].name', /duplicates hosts\[0\]\.name/, setFrom('hosts[1].name', (i) => hosts(i)[0].name)],
  ['two hosts with one address', 'hosts[1].address', /duplicates hosts\[0\]\.address/, setFrom('hosts[1].address', (i) => hosts(i)[0].address)],
  ...hostCases('hosts[1]'),
  ['store missing', 'store', /expected object/i, drop('store')],
  ['store as a bucket URL', 'store', /expected object/i, set('store', 's3://kubeha-backups/etcd')],
  ['bucket missing', 'store.bucket', /expected string/i, drop('store.bucket')],
  ['bucket in capitals', 'store.bucket', /S3 bucket name/, set('store.bucket', 'KubehaBackups')],
  ['bucket as an s3:// URL', 'store.bucket', /S3 bucket name/, set('store.bucket', 's3://kubeha-backups')],
  ['bucket of 2 characters', 'store.bucket', /S3 bucket name/, set('store.bucket', 'kb')],
  ['prefix without a trailing slash', 'store.prefix', /ending with "\/"/, set('store.prefix', 'kubeha/etcd')],
  ['prefix starting with a slash', 'store.prefix', /ending with "\/"/, set('store.prefix', '/kubeha/')],
  ['prefix with a path traversal', 'store.prefix', /"\.\." segments/, set('store.prefix', 'kubeha/../other/')],
  ['region as a zone', 'store.region', /AWS region/, set('store.region', 'us-east-1a')],
  ['endpoint with credentials in it', 'store.endpoint', /user name or password/, set('store.endpoint', 'http://AKIA:secret@127.0.0.1:5000')],
  ['endpoint as ftp', 'store.endpoint', /http\(s\) URL/, set('store.endpoint', 'ftp://127.0.0.1:21')],
  ['access keys pasted into the store', 'store', /unknown field\(s\) "accessKeyId"/, set('store.accessKeyId', 'AKIAEXAMPLE')],
  ['encryption type "none"', 'store.serverSideEncryption.type', /"AES256".*"aws:kms"/, set('store.serverSideEncryption', { type: 'none' })],
  ['aws:kms without a key id', 'store.serverSideEncryption.kmsKeyId', /expected string/i, set('store.serverSideEncryption', { type: 'aws:kms' })],
  [
    'a KMS key id with a shell command',
    'store.serverSideEncryption.kmsKeyId',
    /KMS key id/,
    set('store.serverSideEncryption', { type: 'aws:kms', kmsKeyId: 'alias/x; reboot' }),
  ],
  ['keep 0 (would delete every backup)', 'keep', />=\s*1/, set('keep', 0)],
  ['keep negative', 'keep', />=\s*1/, set('keep', -24)],
  ['keep as "24"', 'keep', /expected number/i, set('keep', '24')],
  ['keep with a fraction', 'keep', /expected int/i, set('keep', 2.5)],
  ['lock wait of 0 s', 'lockWaitSeconds', />=\s*5/, set('lockWaitSeconds', 0)],
  ['lock wait of a week', 'lockWaitSeconds', /<=\s*86400/, set('lockWaitSeconds', 604_800)],
  ['a relative snapshotDir', 'snapshotDir', /absolute path/, set('snapshotDir', 'backups')],
  ['snapshotDir with a space and a command', 'snapshotDir', /plain absolute path/, set('snapshotDir', '/var/lib/x; rm -rf /')],
  ['snapshotDir with ..', 'snapshotDir', /must not contain "\.\."/, set('snapshotDir', '/var/lib/../../etc')],
  ['a schedule pasted into the input', '(input)', /unknown field\(s\) "every"/, set('every', '1h')],
  ...runOptionCases('snapshot', 'prune'),
];

/** Every bad input of BackupEtcd. */
export function backupCases(): BadInputCase[] {
  return buildCases(validBackupInput, specs);
}
