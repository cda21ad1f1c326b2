/**
 * The crash campaign's points: where BootstrapStackedEtcd's worker is killed (every step boundary and
 * the middle of every long step), where the dev server restarts, which lab faults hit a run, the
 * permanent fault an operator clears, and the crashes of RotateCertificateKey, FailoverToEast,
 * RecoverControlPlane and BackupEtcd, and the kills inside LinkMeshClusters.
 */
import type { ArenaShape } from './arena';
import type { MeshPoint, MeshTrigger } from './meshPoint';
import type { Trigger } from './observe';

/** A lab fault applied while a run goes on; returns notes for the table. */
export interface FaultPlan {
  /** One line: what is done, to whom, for how long. */
  description: string;
  /** Applies the fault (and clears it when it is temporary); `fault(name, args)` is the lab's labFault. */
  apply(fault: (name: string, args: string[]) => Promise<string>): Promise<string[]>;
}

/** What every BootstrapStackedEtcd point has: a name, when it acts, and its lab (default the full west cluster). */
interface BootstrapPointBase {
  name: string;
  trigger: Trigger;
  shape?: ArenaShape;
}

/** One point of the campaign. */
export type CrashPoint =
  /** SIGKILL the worker child when `trigger` holds, start another, the run must complete as a clean one. */
  | (BootstrapPointBase & { kind: 'kill' })
  /** Kill the file-backed dev server when `trigger` holds and start it again after `downMs`. */
  | (BootstrapPointBase & { kind: 'server-restart'; downMs: number })
  /** A lab fault during the run: activities retry and the run completes. */
  | (BootstrapPointBase & { kind: 'fault'; fault: FaultPlan })
  /** A fault that never heals by itself: the run (onFailure: wait) holds with a reason until the operator clears it and signals retry. */
  | (BootstrapPointBase & { kind: 'hold'; host: string })
  /** RotateCertificateKey's worker killed between `kubeadm certs certificate-key` and the upload. */
  | { name: string; kind: 'rotation' }
  /** FailoverToEast's worker (stub world) killed while failed over. */
  | { name: string; kind: 'failover' }
  /** FailoverToEast's worker killed between a Route 53 UPSERT and INSYNC (real Route 53 activities on moto). */
  | { name: string; kind: 'failover-dns' }
  /**
   * RecoverControlPlane after west lost its three control planes (host-stop): the worker killed when
   * `trigger` holds, during the restore on the spare or during the lost hosts' rejoin (recoverPoint.ts).
   */
  | { name: string; kind: 'recover'; stage: 'restore' | 'rejoin'; trigger: Trigger }
  /** BackupEtcd with the real activities and the lab's moto S3: the worker killed mid multipart upload (backupPoint.ts). */
  | { name: string; kind: 'backup' }
  /** LinkMeshClusters on a west/east pair of API servers: the worker killed when the trigger holds (meshPoint.ts). */
  | MeshPoint;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const step = (s: string): Trigger => ({ kind: 'step', step: s });
const host = (s: string, h: string, reason: string): Trigger => ({ kind: 'host', step: s, host: h, reason });
const command = (h: string, pattern: RegExp, label: string, nth = 1): Trigger => ({ kind: 'command', host: h, pattern, label, nth });
const kubeadmInit = /(^|[\s;&|('"])kubeadm init(?!\s+phase)(\s|$)/m;
const kubeadmJoin = /(^|[\s;&|('"])kubeadm join(\s|$)/m;

/** Kill points over BootstrapStackedEtcd: each step's start and the middle of each long step. */
export const KILL_POINTS: CrashPoint[] = [
  { name: 'run-start', kind: 'kill', trigger: { kind: 'run-start' } },
  { name: 'ensure-lb', kind: 'kill', trigger: step('ensure-load-balancer') },
  { name: 'prepare-start', kind: 'kill', trigger: step('prepare-hosts') },
  // prepareHost sends its script twice (a check, then the changes): the kill comes as the changes start.
  { name: 'prepare-mid', kind: 'kill', trigger: command('west-cp-1', /sh -c 'sh -s'/, 'sh -s (preparation script)', 2) },
  { name: 'init-start', kind: 'kill', trigger: step('init-primary') },
  { name: 'init-mid', kind: 'kill', trigger: command('west-cp-1', kubeadmInit, 'kubeadm init') },
  { name: 'healthy-start', kind: 'kill', trigger: step('wait-target-healthy') },
  { name: 'healthy-mid', kind: 'kill', trigger: { kind: 'activity', type: 'waitTargetHealthy' } },
  { name: 'cni-start', kind: 'kill', trigger: step('install-cni') },
  { name: 'cni-rollout', kind: 'kill', trigger: { kind: 'activity', type: 'waitRollout' } },
  { name: 'cp-start', kind: 'kill', trigger: step('join-control-plane') },
  { name: 'cp2-join-mid', kind: 'kill', trigger: command('west-cp-2', kubeadmJoin, 'kubeadm join') },
  { name: 'cp2-target', kind: 'kill', trigger: host('join-control-plane', 'west-cp-2', 'WaitingTargetHealthy') },
  { name: 'cp2-node', kind: 'kill', trigger: host('join-control-plane', 'west-cp-2', 'WaitingNodeReady') },
  { name: 'cp3-join-mid', kind: 'kill', trigger: command('west-cp-3', kubeadmJoin, 'kubeadm join') },
  { name: 'cp3-node', kind: 'kill', trigger: host('join-control-plane', 'west-cp-3', 'WaitingNodeReady') },
  { name: 'spare-start', kind: 'kill', trigger: step('join-spare') },
  { name: 'spare-join-mid', kind: 'kill', trigger: command('west-spare-1', kubeadmJoin, 'kubeadm join') },
  { name: 'spare-node', kind: 'kill', trigger: host('join-spare', 'west-spare-1', 'WaitingNodeReady') },
  { name: 'workers-start', kind: 'kill', trigger: step('join-workers') },
  { name: 'worker1-join-mid', kind: 'kill', trigger: command('west-worker-1', kubeadmJoin, 'kubeadm join') },
  { name: 'worker2-node', kind: 'kill', trigger: host('join-workers', 'west-worker-2', 'WaitingNodeReady') },
  { name: 'verify', kind: 'kill', trigger: step('verify') },
];

/** Lab faults during runs (temporary), the dev server's restart and the permanent fault. */
export const FAULT_POINTS: CrashPoint[] = [
  { name: 'server-restart', kind: 'server-restart', trigger: command('west-cp-2', kubeadmJoin, 'kubeadm join'), downMs: 3000 },
  {
    name: 'ssh-drop',
    kind: 'fault',
    trigger: step('join-control-plane'),
    fault: {
      description: 'sshd of west-cp-2 down for 20 s as its join starts',
      async apply(fault) {
        await fault('ssh-drop', ['west-cp-2']);
        await sleep(20_000);
        await fault('ssh-restore', ['west-cp-2']);
        return ['ssh dropped 20 s'];
      },
    },
  },
  {
    name: 'kill-apiserver',
    kind: 'fault',
    trigger: step('install-cni'),
    fault: {
      description: 'kube-apiserver of the primary (the only target) killed as the CNI is applied',
      async apply(fault) {
        return [await fault('kill-apiserver', ['west-cp-1'])];
      },
    },
  },
  {
    name: 'kill-etcd',
    kind: 'fault',
    trigger: host('join-control-plane', 'west-cp-2', 'WaitingNodeReady'),
    fault: {
      description: "the primary's etcd member killed while west-cp-2 waits for its Node",
      async apply(fault) {
        return [await fault('kill-etcd', ['west-cp-1'])];
      },
    },
  },
  {
    name: 'lb-flapping',
    kind: 'fault',
    trigger: host('join-control-plane', 'west-cp-2', 'WaitingTargetHealthy'),
    fault: {
      description: "west-cp-2's kube-apiserver killed 3 times, 4 s apart, while its target is waited for",
      async apply(fault) {
        const notes: string[] = [];
        for (let i = 0; i < 3; i++) {
          // Its API server may still be starting (the kubelet brings it up after the join): that kill is skipped.
          await sleep(i === 0 ? 2000 : 4000);
          notes.push(await fault('kill-apiserver', ['west-cp-2']).catch((err: Error) => `kill ${i + 1}: ${err.message}`));
        }
        return notes;
      },
    },
  },
  {
    name: 'aws-throttle',
    kind: 'fault',
    trigger: { kind: 'run-start' },
    fault: {
      description: 'the next 6 AWS calls answer Throttling',
      async apply(fault) {
        return [await fault('aws-throttle', ['6'])];
      },
    },
  },
  {
    name: 'aws-5xx',
    kind: 'fault',
    trigger: step('join-control-plane'),
    fault: {
      description: 'the next 6 AWS calls answer InternalFailure (HTTP 500)',
      async apply(fault) {
        return [await fault('aws-error', ['6'])];
      },
    },
  },
  { name: 'host-stopped', kind: 'hold', trigger: step('join-spare'), host: 'west-worker-2' },
];

/** Crashes of the other workflows. */
export const OTHER_POINTS: CrashPoint[] = [
  { name: 'rotation-key', kind: 'rotation' },
  { name: 'failover-held', kind: 'failover' },
  { name: 'failover-dns-pending', kind: 'failover-dns' },
];

/**
 * Crashes of RecoverControlPlane and BackupEtcd. The restore kill comes right after the survivor's
 * manifest got `--force-new-cluster` (kubeha's atomic write lands as `etcd.yaml.kubeha.XXXXXX`): the
 * most dangerous moment, the member restarting alone while the worker that forced it is gone. The
 * rejoin kill comes as west-cp-1 (the host that ran `kubeadm init` once) receives `kubeadm join`.
 * Their command triggers count from the recovery's start (recoverPoint.ts adds the earlier matches).
 */
export const RECOVERY_POINTS: CrashPoint[] = [
  {
    name: 'recover-restore-mid',
    kind: 'recover',
    stage: 'restore',
    trigger: command('west-spare-1', /etcd\.yaml\.kubeha\./, 'etcd.yaml forced'),
  },
  { name: 'recover-rejoin-mid', kind: 'recover', stage: 'rejoin', trigger: command('west-cp-1', kubeadmJoin, 'kubeadm join') },
  { name: 'backup-upload-mid', kind: 'backup' },
];

/**
 * A quick slice for `npm test`: kills in three different steps (kubeadm init in flight, the CNI rollout
 * wait, kubeadm join in flight), the dev server's restart, and AWS 5xx, on smaller labs.
 */
export const QUICK_POINTS: CrashPoint[] = [
  { name: 'init-mid', kind: 'kill', shape: 'primary-only', trigger: command('west-cp-1', kubeadmInit, 'kubeadm init') },
  { name: 'cni-rollout', kind: 'kill', shape: 'primary-only', trigger: { kind: 'activity', type: 'waitRollout' } },
  { name: 'cp2-join-mid', kind: 'kill', shape: 'small', trigger: command('west-cp-2', kubeadmJoin, 'kubeadm join') },
  { name: 'server-restart', kind: 'server-restart', shape: 'primary-only', trigger: command('west-cp-1', kubeadmInit, 'kubeadm init'), downMs: 3000 },
  {
    name: 'aws-5xx',
    kind: 'fault',
    shape: 'primary-only',
    trigger: step('init-primary'),
    fault: {
      description: 'the next 6 AWS calls answer InternalFailure (HTTP 500) as the primary is registered',
      async apply(fault) {
        return [await fault('aws-error', ['6'])];
      },
    },
  },
];

const meshStep = (s: string): MeshTrigger => ({ kind: 'run', trigger: step(s) });
const meshActivity = (type: string): MeshTrigger => ({ kind: 'run', trigger: { kind: 'activity', type } });

/**
 * Kills inside LinkMeshClusters, in run order: the anchor stored but nothing installed (ensureTrust
 * stores the anchor first, then the issuers: the kill may fall between them), the trust step done,
 * west's control plane half applied, the control-plane rollout wait, the Link applied on west before
 * its checks, the link checks, and the mirror wait after the export label.
 */
export const MESH_POINTS: MeshPoint[] = [
  { name: 'mesh-trust-anchor', kind: 'mesh', trigger: { kind: 'anchor-stored' } },
  { name: 'mesh-trust-done', kind: 'mesh', trigger: meshStep('install-crds') },
  {
    name: 'mesh-control-plane-mid',
    kind: 'mesh',
    trigger: { kind: 'object', role: 'west', path: '/api/v1/namespaces/linkerd/configmaps/linkerd-identity-trust-roots', label: "west's trust roots" },
  },
  { name: 'mesh-control-plane-rollout', kind: 'mesh', trigger: meshActivity('waitRollout') },
  {
    name: 'mesh-link-applied',
    kind: 'mesh',
    trigger: {
      kind: 'object',
      role: 'west',
      path: '/apis/multicluster.linkerd.io/v1alpha3/namespaces/linkerd-multicluster/links/east',
      label: 'the Link on west',
    },
  },
  { name: 'mesh-link-checks', kind: 'mesh', trigger: meshActivity('verifyLink') },
  { name: 'mesh-export-mid', kind: 'mesh', trigger: meshActivity('waitMirrors') },
];

/** The mesh slice `npm test` runs: the anchor made but not installed, and the Link applied but not checked. */
export const MESH_QUICK_POINTS: MeshPoint[] = MESH_POINTS.filter((p) => ['mesh-trust-anchor', 'mesh-link-applied'].includes(p.name));

/** Every point, in campaign order. */
export const ALL_POINTS: CrashPoint[] = [...KILL_POINTS, ...FAULT_POINTS, ...OTHER_POINTS, ...RECOVERY_POINTS, ...MESH_POINTS];

/** The points named (all when `names` is empty); an unknown name is an error listing the known ones. */
export function selectPoints(names: string[]): CrashPoint[] {
  if (names.length === 0) return ALL_POINTS;
  return names.map((n) => {
    const point = ALL_POINTS.find((p) => p.name === n);
    if (!point) throw new Error(`unknown point "${n}"; points: ${ALL_POINTS.map((p) => p.name).join(', ')}`);
    return point;
  });
}
