/**
 * Bad inputs of RecoverControlPlane, each one mutation of examples/recover-control-plane.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../../lib/paths';
import { type BadInputCase, buildCases, type CaseSpec, drop, hostCases, replace, runOptionCases, set, setFrom, wholeInputCases } from './cases';

/** The example: the bootstrap example as `cluster`, with the recovery's settings. */
export function validRecoverInput(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(projectRoot, 'examples', 'recover-control-plane.json'), 'utf8')) as Record<string, unknown>;
}

const hosts = (i: Record<string, unknown>) => (i.cluster as { hosts: Array<Record<string, unknown>> }).hosts;

const specs: CaseSpec[] = [
  ...wholeInputCases(),
  ['an empty object', 'cluster', /expected object/i, replace(() => ({}))],
  ['cluster missing', 'cluster', /expected object/i, drop('cluster')],
  ['cluster as a file name', 'cluster', /expected object/i, set('cluster', 'examples/bootstrap-stacked-etcd.json')],
  ['the bootstrap input given whole, not under cluster', '(input)', /unknown field\(s\) "clusterName"/, replace((i) => ({ ...(i.cluster as object) }))],
  ['cluster.clusterName missing', 'cluster.clusterName', /expected string/i, drop('cluster.clusterName')],
  ['cluster.clusterName with a shell command', 'cluster.clusterName', /DNS-1123/, set('cluster.clusterName', '$(reboot)')],
  ['cluster.kubernetesVersion "latest"', 'cluster.kubernetesVersion', /Kubernetes version/, set('cluster.kubernetesVersion', 'latest')],
  ['cluster.aws missing', 'cluster.aws', /expected object/i, drop('cluster.aws')],
  ['cluster.aws.region as a zone', 'cluster.aws.region', /AWS region/, set('cluster.aws.region', 'us-east-1a')],
  ['cluster.loadBalancer missing', 'cluster.loadBalancer', /expected object/i, drop('cluster.loadBalancer')],
  ['cluster.hosts empty', 'cluster.hosts', /at least one host/, set('cluster.hosts', [])],
  [
    'cluster.hosts only workers',
    'cluster.hosts',
    /needs at least one host with role "control-plane"/,
    setFrom('cluster.hosts', (i) => hosts(i).map((h) => ({ ...h, role: 'worker' }))),
  ],
  ['two hosts with one name', 'cluster.hosts[1].name', /duplicates hosts\[0\]\.name/, setFrom('cluster.hosts[1].name', (i) => hosts(i)[0].name)],
  ...hostCases('cluster.hosts[1]'),
  ['cluster.dryRun true', 'cluster.dryRun', /must be false: the cluster is a real one/, set('cluster.dryRun', true)],
  ['cluster.skipSteps naming a recovery step', 'cluster.skipSteps[0]', /Invalid option/i, set('cluster.skipSteps', ['restore'])],
  ['precheck as a number of seconds', 'precheck', /expected object/i, set('precheck', 60)],
  ['a negative window', 'precheck.windowSeconds', />=\s*0/, set('precheck.windowSeconds', -1)],
  ['a window of two hours', 'precheck.windowSeconds', /<=\s*3600/, set('precheck.windowSeconds', 7200)],
  ['a window as "60s"', 'precheck.windowSeconds', /expected number/i, set('precheck.windowSeconds', '60s')],
  ['an interval of 1 s', 'precheck.intervalSeconds', />=\s*2/, set('precheck.intervalSeconds', 1)],
  [
    'an interval longer than the window',
    'precheck.intervalSeconds',
    /not be longer than windowSeconds/,
    set('precheck', { windowSeconds: 10, intervalSeconds: 30 }),
  ],
  ['an unknown precheck field', 'precheck', /unknown field\(s\) "force"/, set('precheck.force', true)],
  ['approval.required as "yes"', 'approval.required', /expected boolean/i, set('approval.required', 'yes')],
  ['approval.timeoutMinutes 0', 'approval.timeoutMinutes', />=\s*0.01/, set('approval.timeoutMinutes', 0)],
  ['approval.timeoutMinutes of a month', 'approval.timeoutMinutes', /<=\s*10080/, set('approval.timeoutMinutes', 43_200)],
  [
    'approval.onTimeout (nobody answering never restores)',
    'approval',
    /unknown field\(s\) "onTimeout"/,
    set('approval', { required: true, onTimeout: 'approve' }),
  ],
  ['rejoin.waitMinutes 0', 'rejoin.waitMinutes', />=\s*0.1/, set('rejoin.waitMinutes', 0)],
  ['rejoin.waitMinutes "forever"', 'rejoin.waitMinutes', /expected number/i, set('rejoin.waitMinutes', 'forever')],
  ['rejoin.pollSeconds 1', 'rejoin.pollSeconds', />=\s*2/, set('rejoin.pollSeconds', 1)],
  ['rejoin.pollSeconds with a fraction', 'rejoin.pollSeconds', /expected int/i, set('rejoin.pollSeconds', 2.5)],
  ['a restore host named outside snapshot', '(input)', /unknown field\(s\) "restoreHost"/, set('restoreHost', 'cp-1')],
  ['snapshot as a bucket name', 'snapshot', /expected object/i, set('snapshot', 'prod-a-etcd-backups')],
  ['snapshot.host missing', 'snapshot.host', /expected string/i, drop('snapshot.host')],
  ['snapshot.host a worker', 'snapshot.host', /must name a control-plane or spare host of cluster.hosts, got "worker-1"/, set('snapshot.host', 'worker-1')],
  ['snapshot.host not in the cluster', 'snapshot.host', /must name a control-plane or spare host of cluster.hosts, got "cp-9"/, set('snapshot.host', 'cp-9')],
  ['snapshot.store missing', 'snapshot.store', /expected object/i, drop('snapshot.store')],
  ['snapshot.store.bucket with upper case', 'snapshot.store.bucket', /S3 bucket name/, set('snapshot.store.bucket', 'Prod-Backups')],
  ['snapshot.store.prefix without a trailing slash', 'snapshot.store.prefix', /ending with "\/"/, set('snapshot.store.prefix', 'kubeha/etcd')],
  [
    'snapshot.store.endpoint with credentials',
    'snapshot.store.endpoint',
    /credentials|user/i,
    set('snapshot.store.endpoint', 'https://key:secret@s3.example.com'),
  ],
  ['snapshot.backupId a file name', 'snapshot.backupId', /must be a backup id like/, set('snapshot.backupId', 'snapshot.db')],
  ['an unknown snapshot field', 'snapshot', /unknown field\(s\) "path"/, set('snapshot.path', '/var/backups/etcd.db')],
  ['dryRun true', 'dryRun', /not supported: a recovery either restores etcd or refuses/, set('dryRun', true)],
  ['skipSteps with precheck', 'skipSteps', /must keep precheck/, set('skipSteps', ['precheck'])],
  ['onlySteps without precheck', 'onlySteps', /must keep precheck/, set('onlySteps', ['restore', 'verify'])],
  ...runOptionCases('approve', 'rejoin').filter(([name]) => name !== 'dryRun as the string "true"'),
  ['dryRun as the string "false"', 'dryRun', /expected boolean/i, set('dryRun', 'false')],
];

/** Every bad input of RecoverControlPlane. */
export function recoverCases(): BadInputCase[] {
  return buildCases(validRecoverInput, specs);
}
