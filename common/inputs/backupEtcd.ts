/**
 * The input of BackupEtcd, as one JSON object: the cluster's control-plane hosts, where the backups go
 * (an S3 bucket and prefix, with server-side encryption), and how many are kept.
 * Pure zod: workflows import these, so no Node built-ins here.
 */
import { z } from 'zod';
import { parseDuration } from './rotateCertificateKey';
import { absolutePath, dnsLabel, hostSchema, stepSelectionSchema, urlWithoutCredentials } from './shared';

/** The steps of BackupEtcd, in order. `onlySteps` and `skipSteps` take these names. */
export const BACKUP_STEPS = ['select-voter', 'snapshot', 'prune'] as const;
/** One of {@link BACKUP_STEPS}. */
export type BackupStepName = (typeof BACKUP_STEPS)[number];

/** Server-side encryption of every object kubeha writes: S3-managed keys, or a KMS key. */
export const serverSideEncryptionSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('AES256') }),
    z.strictObject({
      type: z.literal('aws:kms'),
      kmsKeyId: z
        .string()
        .min(1)
        .max(2048)
        .regex(/^[A-Za-z0-9:/_+=.@-]+$/, 'must be a KMS key id, ARN or alias'),
    }),
  ],
  { message: 'must be {"type": "AES256"} or {"type": "aws:kms", "kmsKeyId": "..."}' },
);
/** Server-side encryption settings. */
export type ServerSideEncryption = z.infer<typeof serverSideEncryptionSchema>;

/** Where backups are stored. Credentials come from the SDK's default chain, never from the input. */
export const backupStoreSchema = z.strictObject({
  /** S3 bucket naming rules (3-63 lowercase letters, digits, "." and "-"). */
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lowercase letters, digits, "." and "-")'),
  /** Objects go under `<prefix><cluster>/`. Empty, or ending with "/". */
  prefix: z
    .string()
    .max(512)
    .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, 'must be empty or path segments each ending with "/", like "kubeha/etcd/"')
    // "." and ".." are plain characters to S3, but tools that map keys to paths would leave the prefix.
    .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), 'must not have "." or ".." segments')
    .default('kubeha/etcd/'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region like "us-east-1"'),
  /** An S3-compatible endpoint (moto, MinIO, a VPC endpoint); path-style addressing is used with one. */
  endpoint: urlWithoutCredentials(/^https?$/, 'must be an http(s) URL').optional(),
  serverSideEncryption: serverSideEncryptionSchema.default({ type: 'AES256' }),
});
/** Where backups are stored, with defaults. */
export type BackupStore = z.output<typeof backupStoreSchema>;

/** The input of BackupEtcd. */
export const backupEtcdInputSchema = z
  .strictObject({
    clusterName: dnsLabel,
    /** The cluster's hosts (the list other inputs take); control-plane and spare hosts are asked, workers ignored. */
    hosts: z.array(hostSchema).min(1, 'needs at least one host').max(500),
    store: backupStoreSchema,
    /**
     * Where the snapshot waits on the host between save and upload (created 0700; the file is 0600 and
     * removed after the upload). It needs room for one snapshot, about the size of etcd's database.
     */
    snapshotDir: absolutePath()
      .regex(/^\/[A-Za-z0-9._/-]+$/, 'must be a plain absolute path (letters, digits, ".", "_", "-", "/")')
      .refine((p) => !p.split('/').includes('..'), 'must not contain ".."')
      .default('/var/lib/kubeha-backup'),
    /** How many of kubeha's backups of this cluster are kept; older ones are deleted after a successful backup. */
    keep: z.number().int().min(1).max(10000).default(24),
    /** How long to wait for a join or recovery holding the cluster lock; after that the run is skipped with the reason. */
    lockWaitSeconds: z.number().int().min(5).max(86400).default(600),
    ...stepSelectionSchema(BACKUP_STEPS),
  })
  .superRefine((input, ctx) => {
    const names = new Map<string, number>();
    const addresses = new Map<string, number>();
    input.hosts.forEach((host, i) => {
      const at = names.get(host.name);
      if (at !== undefined) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `duplicates hosts[${at}].name "${host.name}"` });
      else names.set(host.name, i);
      const addrAt = addresses.get(host.address);
      if (addrAt !== undefined) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'address'], message: `duplicates hosts[${addrAt}].address ${host.address}` });
      else addresses.set(host.address, i);
    });
    if (!input.hosts.some((h) => h.role !== 'worker'))
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'needs at least one host with role "control-plane" or "spare-control-plane"' });
    if (input.onlySteps && input.skipSteps.some((s) => input.onlySteps?.includes(s)))
      ctx.addIssue({ code: 'custom', path: ['skipSteps'], message: 'names a step also listed in onlySteps; choose one' });
  });

/** The input as the user writes it (defaults may be left out). */
export type BackupEtcdInput = z.input<typeof backupEtcdInputSchema>;
/** The input after validation, with every default filled in. */
export type BackupEtcdConfig = z.output<typeof backupEtcdInputSchema>;

const duration = (rule: string) => z.string().refine((v) => parseDuration(v) !== undefined, `must be a duration like ${rule}`);

/** When backups run (`kubeha schedule backup --every 1h`). */
export const backupScheduleSchema = z
  .strictObject({
    every: duration('"1h" or "30m"').default('1h'),
    jitter: duration('"2m"').default('2m'),
    catchupWindow: duration('"10m"').default('10m'),
    paused: z.boolean().default(false),
  })
  .superRefine((s, ctx) => {
    const every = parseDuration(s.every) ?? 0;
    if (every < 5 * 60_000) ctx.addIssue({ code: 'custom', path: ['every'], message: 'must be at least 5m (a snapshot takes a while on a large etcd)' });
    if ((parseDuration(s.jitter) ?? 0) > every / 2) ctx.addIssue({ code: 'custom', path: ['jitter'], message: 'must be at most half of every' });
    if ((parseDuration(s.catchupWindow) ?? 0) < 60_000) ctx.addIssue({ code: 'custom', path: ['catchupWindow'], message: 'must be at least 1m' });
  });
/** Schedule settings as written. */
export type BackupScheduleInput = z.input<typeof backupScheduleSchema>;

/** The start of every etcd backup schedule's id (`kubeha schedule list` finds them by it). */
export const BACKUP_SCHEDULE_PREFIX = 'backup-etcd-';

/** The schedule id of a cluster's backups: one schedule per cluster. */
export function backupScheduleId(clusterName: string): string {
  return `${BACKUP_SCHEDULE_PREFIX}${clusterName}`;
}

/** The folder of one cluster's backups in the bucket. */
export function clusterBackupPrefix(store: Pick<BackupStore, 'prefix'>, clusterName: string): string {
  return `${store.prefix}${clusterName}/`;
}

/** A backup id: `<UTC time, compact>-<8 hex of the workflow id>`; sorts by time, and a re-run of one scheduled run finds its own. */
export const BACKUP_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** The backup id of a run (pure: workflows compute it from their id and start time). */
export function backupIdOf(workflowId: string, startedAt: Date): string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  // FNV-1a, 32 bits: stable, no Node crypto in the workflow sandbox; the time carries the ordering.
  let hash = 0x811c9dc5;
  for (let i = 0; i < workflowId.length; i++) {
    hash ^= workflowId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${stamp}-${hash.toString(16).padStart(8, '0')}`;
}
