/**
 * The input of RecoverControlPlane, as one JSON object: the cluster as BootstrapStackedEtcd knows it
 * (`cluster`, the bootstrap input itself), how long quorum must stay lost before kubeha acts, whether an
 * operator approves, and how long the lost hosts may take to come back.
 * Pure zod: workflows import these, so no Node built-ins here.
 */
import { z } from 'zod';
import { BACKUP_ID, backupStoreSchema } from './backupEtcd';
import { bootstrapStackedEtcdInputSchema } from './bootstrapStackedEtcd';
import { stepSelectionSchema } from './shared';

/** The steps of RecoverControlPlane, in order. `onlySteps` and `skipSteps` take these names. */
export const RECOVER_STEPS = ['precheck', 'approve', 'restore', 'verify-serving', 'rejoin', 'return-spare', 'verify'] as const;
/** One of {@link RECOVER_STEPS}. */
export type RecoverStepName = (typeof RECOVER_STEPS)[number];

/** How kubeha convinces itself that quorum is really lost, not briefly unsteady. */
const precheckSchema = z
  .strictObject({
    /** Quorum must stay lost (no member has a leader, no API target healthy) for this long. */
    windowSeconds: z.number().int().min(0).max(3600).default(60),
    /** How often the members are asked during the window. */
    intervalSeconds: z.number().int().min(2).max(300).default(10),
  })
  .refine((p) => p.windowSeconds === 0 || p.intervalSeconds <= p.windowSeconds, {
    message: 'must not be longer than windowSeconds',
    path: ['intervalSeconds'],
  });

/** The operator's approval before etcd is restored. */
const approvalSchema = z.strictObject({
  /** False restores as soon as the precheck holds (FailoverToEast's `controlPlane.recover: "auto"`). */
  required: z.boolean().default(true),
  /** How long to wait for an `approve` or `reject` signal; nobody answering means no restore. */
  timeoutMinutes: z.number().min(0.01).max(10080).default(60),
});

/** The lost hosts coming back. */
const rejoinSchema = z.strictObject({
  /** How long to wait for a lost host to answer over SSH again (counted afresh after each rejoin) before the step fails and holds for the operator. */
  waitMinutes: z.number().min(0.1).max(43200).default(1440),
  /** How often the lost hosts are tried (inside one heartbeating activity, not in the run's history). */
  pollSeconds: z.number().int().min(2).max(3600).default(15),
});

/** Where to restore from when no member survived: a stored backup (BackupEtcd's), onto one named host. */
const snapshotSchema = z.strictObject({
  /** The control-plane (or spare) host restored; kubeadm set it up, its etcd data is what was lost. */
  host: z.string().min(1, 'must name a control-plane host of cluster.hosts'),
  /** The store BackupEtcd writes to (the same bucket, prefix and region). */
  store: backupStoreSchema,
  /** A backup id from `kubeha backup list`; default the newest complete one. */
  backupId: z.string().regex(BACKUP_ID, 'must be a backup id like 20261206T031500Z-1a2b3c4d (kubeha backup list)').optional(),
});

/** The input of RecoverControlPlane. */
export const recoverControlPlaneInputSchema = z
  .strictObject({
    /** The cluster, exactly as BootstrapStackedEtcd was given it: hosts, load balancer, AWS settings. */
    cluster: bootstrapStackedEtcdInputSchema,
    precheck: precheckSchema.default({ windowSeconds: 60, intervalSeconds: 10 }),
    approval: approvalSchema.default({ required: true, timeoutMinutes: 60 }),
    rejoin: rejoinSchema.default({ waitMinutes: 1440, pollSeconds: 15 }),
    /** Used only when no member answers at all; without it such a run fails and holds for the operator. */
    snapshot: snapshotSchema.optional(),
    ...stepSelectionSchema(RECOVER_STEPS),
  })
  .superRefine((input, ctx) => {
    if (input.dryRun) ctx.addIssue({ code: 'custom', path: ['dryRun'], message: 'is not supported: a recovery either restores etcd or refuses' });
    if (input.cluster.dryRun) ctx.addIssue({ code: 'custom', path: ['cluster', 'dryRun'], message: 'must be false: the cluster is a real one' });
    if (input.onlySteps && input.skipSteps.some((s) => input.onlySteps?.includes(s)))
      ctx.addIssue({ code: 'custom', path: ['skipSteps'], message: 'names a step also listed in onlySteps; choose one' });
    const keepPrecheck = 'must keep precheck: restoring etcd while quorum holds would fork the cluster';
    const voter = input.cluster.hosts.find((h) => h.name === input.snapshot?.host);
    if (input.snapshot && (!voter || voter.role === 'worker'))
      ctx.addIssue({
        code: 'custom',
        path: ['snapshot', 'host'],
        message: `must name a control-plane or spare host of cluster.hosts, got "${input.snapshot.host}"`,
      });
    if (input.skipSteps.includes('precheck')) ctx.addIssue({ code: 'custom', path: ['skipSteps'], message: keepPrecheck });
    if (input.onlySteps && !input.onlySteps.includes('precheck')) ctx.addIssue({ code: 'custom', path: ['onlySteps'], message: keepPrecheck });
  });

/** The input as the user writes it (defaults may be left out). */
export type RecoverControlPlaneInput = z.input<typeof recoverControlPlaneInputSchema>;
/** The input after validation, with every default filled in. */
export type RecoverControlPlaneConfig = z.output<typeof recoverControlPlaneInputSchema>;

/** The workflow id of a cluster's recovery: one at a time per cluster (a second start finds the first). */
export function recoverWorkflowId(clusterName: string): string {
  return `recover-control-plane-${clusterName}`;
}
