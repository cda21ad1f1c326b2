/**
 * BootstrapStackedEtcd's test tables: the side effects of a full run, where one failure per step is
 * injected, and broken inputs with the message each must be refused with.
 */
import { host } from '../support/inputs';

/** The side effects a full 3+1+2 bootstrap performs, each exactly once. */
export const FULL_RUN_ACTIONS = [
  'create-lb',
  'prepare:cp-1',
  'prepare:cp-2',
  'prepare:cp-3',
  'prepare:spare-1',
  'prepare:worker-1',
  'prepare:worker-2',
  'register:10.0.1.11',
  'init',
  'apply-cni',
  'register:10.0.1.12',
  'join:cp-2',
  'register:10.0.1.13',
  'join:cp-3',
  'join:spare-1',
  'join:worker-1',
  'join:worker-2',
];

/** One failure per step: the step, the activity that fails in it, and the host or target it fails for. */
export const INJECTION_PER_STEP: Array<[step: string, activity: string, target: string | undefined]> = [
  ['ensure-load-balancer', 'ensureLoadBalancer', undefined],
  ['prepare-hosts', 'prepareHost', 'worker-2'],
  ['init-primary', 'kubeadmInit', 'cp-1'],
  ['wait-target-healthy', 'waitTargetHealthy', '10.0.1.11'],
  ['install-cni', 'waitRollout', undefined],
  ['join-control-plane', 'kubeadmJoin', 'cp-3'],
  ['join-spare', 'kubeadmJoin', 'spare-1'],
  ['join-workers', 'kubeadmJoin', 'worker-1'],
  ['verify', 'apiReady', undefined],
];

/** Broken inputs: what is broken, how, and what the refusal names. */
export const BAD_INPUTS: Array<[name: string, breakIt: (i: Record<string, unknown>) => void, expected: RegExp]> = [
  ['missing cluster name', (i) => delete i.clusterName, /clusterName: /],
  ['cluster name with capitals', (i) => (i.clusterName = 'West'), /clusterName: must be a DNS-1123 label/],
  ['duplicate host names', (i) => ((i.hosts as { name: string }[])[1].name = 'cp-1'), /hosts\[1\]\.name: duplicates hosts\[0\]\.name "cp-1"/],
  ['an address that is not an address', (i) => ((i.hosts as { address: string }[])[0].address = '10.0.1.300'), /hosts\[0\]\.address: must be an IPv4 address/],
  ['no control plane', (i) => (i.hosts = [host('w', '10.0.0.1', 'worker')]), /hosts: needs at least one host with role "control-plane"/],
  [
    'key material instead of a reference',
    (i) => ((i.hosts as { ssh: { privateKey: unknown } }[])[0].ssh.privateKey = '-----BEGIN OPENSSH PRIVATE KEY-----'),
    /hosts\[0\]\.ssh\.privateKey: must be a reference/,
  ],
  [
    'unpinned host key',
    (i) => delete (i.hosts as { ssh: { hostKeyFingerprint?: string } }[])[2].ssh.hostKeyFingerprint,
    /hosts\[2\]\.ssh\.hostKeyFingerprint: hostKeyFingerprint is required unless trustOnFirstUse/,
  ],
  [
    'negative timeout',
    (i) => (i.loadBalancer = { name: 'lb', targetGroup: { healthyDeadlineSeconds: -5 } }),
    /loadBalancer\.targetGroup\.healthyDeadlineSeconds/,
  ],
  ['unknown step', (i) => (i.skipSteps = ['join-everything']), /skipSteps\[0\]/],
  ['unknown field', (i) => (i.hostz = []), /unknown field\(s\) "hostz"/],
  ['both CNI url and file', (i) => (i.cni = { url: 'https://example.com/c.yaml', file: '/tmp/c.yaml' }), /cni\.file: give either url or file/],
  ['old Kubernetes', (i) => (i.kubernetesVersion = '1.19.0'), /kubernetesVersion: must be a Kubernetes version from 1\.26/],
];
