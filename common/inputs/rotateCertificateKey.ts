/**
 * The input of RotateCertificateKey, as one JSON object, and the settings of its Temporal Schedule
 * (shared by `kubeha schedule rotate` and BootstrapStackedEtcd's `rotationSchedule`).
 * Pure zod: workflows import these, so no Node built-ins here.
 */
import { z } from 'zod';
import { meshIssuerSchema } from './meshIssuer';
import { dnsLabel, hostSchema, stepSelectionSchema } from './shared';

/** The steps of RotateCertificateKey, in order. `onlySteps` and `skipSteps` take these names. */
export const ROTATION_STEPS = ['select-host', 'rotate-key', 'check-expiration', 'renew-certificates', 'check-mesh-issuer', 'renew-mesh-issuer'] as const;
/** One of {@link ROTATION_STEPS}. */
export type RotationStepName = (typeof ROTATION_STEPS)[number];

/** How long kubeadm keeps uploaded certificates (Secret kube-system/kubeadm-certs). */
export const UPLOADED_CERTIFICATES_LIFETIME_MINUTES = 120;

const secretName = z.string().regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/, 'must be a secret name like "clusters/west/admin-kubeconfig"');

/** Certificate expiry check and renewal. */
export const certificateRenewalSchema = z.strictObject({
  /** Renew when a certificate of a control-plane host expires within this many days. */
  thresholdDays: z.number().int().min(1).max(365).default(30),
  /** Set false to only report expiry. */
  enabled: z.boolean().default(true),
  /** How long the static pod manifests stay out of /etc/kubernetes/manifests so the kubelet stops the pods (kubelet's fileCheckFrequency is 20 s). */
  restartWaitSeconds: z.number().int().min(5).max(300).default(25),
  /** How long a renewed host's API server may take to answer again. */
  apiTimeoutSeconds: z.number().int().min(10).max(1800).default(300),
});
/** Certificate expiry settings. */
export type CertificateRenewalSettings = z.infer<typeof certificateRenewalSchema>;

/** The input of RotateCertificateKey. */
export const rotateCertificateKeyInputSchema = z
  .strictObject({
    clusterName: dnsLabel,
    /**
     * The cluster's hosts (the same list BootstrapStackedEtcd takes); control-plane and spare hosts are
     * tried in order for the upload, workers are ignored.
     */
    hosts: z.array(hostSchema).min(1, 'needs at least one host').max(500),
    /** The admin kubeconfig in the worker's secret store (its server is the load balancer). Default: the bootstrap's name. */
    kubeconfigSecret: secretName.optional(),
    /** A key uploaded less than this many minutes ago is kept, so a repeated or retried run does not rotate twice. 0 always rotates. */
    keepKeyUploadedWithinMinutes: z.number().int().min(0).max(60).default(10),
    certificates: certificateRenewalSchema.default(certificateRenewalSchema.parse({})),
    /** The cluster's Linkerd issuer, when LinkMeshClusters meshed it: watched for expiry and renewed from the pair's anchor. */
    meshIssuer: meshIssuerSchema.optional(),
    /** How long to wait for a running control-plane join of the same cluster to finish. */
    lockTimeoutMinutes: z.number().int().min(1).max(1440).default(90),
    ...stepSelectionSchema(ROTATION_STEPS),
  })
  .superRefine((input, ctx) => {
    const seen = new Map<string, number>();
    const seenAddresses = new Map<string, number>();
    input.hosts.forEach((host, i) => {
      const at = seen.get(host.name);
      if (at !== undefined)
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `duplicates hosts[${at}].name "${host.name}": host names must be unique` });
      else seen.set(host.name, i);
      // Two names for one address would upload from, and renew, the same machine twice.
      const addrAt = seenAddresses.get(host.address);
      if (addrAt !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', i, 'address'],
          message: `duplicates hosts[${addrAt}].address ${host.address}: addresses must be unique`,
        });
      else seenAddresses.set(host.address, i);
    });
    if (!input.hosts.some((h) => h.role !== 'worker')) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'needs at least one host with role "control-plane" or "spare-control-plane"' });
    }
    if (input.onlySteps && input.skipSteps.some((s) => input.onlySteps?.includes(s))) {
      ctx.addIssue({ code: 'custom', path: ['skipSteps'], message: 'names a step also listed in onlySteps; choose one' });
    }
  });

/** The input as the user writes it (defaults may be left out). */
export type RotateCertificateKeyInput = z.input<typeof rotateCertificateKeyInputSchema>;
/** The input after validation, with every default filled in. */
export type RotateCertificateKeyConfig = z.output<typeof rotateCertificateKeyInputSchema>;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration written like `90m`, `1h30m`, `45s`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+[hms])+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([hms])/g)) total += Number(amount) * UNIT_MS[unit];
  return total;
}

const duration = (rule: string) => z.string().refine((v) => parseDuration(v) !== undefined, `must be a duration like ${rule}`);

/**
 * When the rotation runs. Every run uploads a key that lives 2 hours, so `every + jitter` must stay
 * under 2 hours minus a margin for the run itself: a valid key is then always available.
 */
export const rotationScheduleSchema = z
  .strictObject({
    every: duration('"90m" or "1h30m"').default('90m'),
    /** Random delay added to each run, so many clusters do not rotate at the same second. */
    jitter: duration('"5m"').default('5m'),
    /** A run missed while Temporal was down is still taken if it is at most this late. */
    catchupWindow: duration('"10m"').default('10m'),
    /** Create the schedule paused. */
    paused: z.boolean().default(false),
  })
  .superRefine((s, ctx) => {
    const every = parseDuration(s.every) ?? 0;
    const jitter = parseDuration(s.jitter) ?? 0;
    const catchup = parseDuration(s.catchupWindow) ?? 0;
    if (every < 10 * 60_000) ctx.addIssue({ code: 'custom', path: ['every'], message: 'must be at least 10m' });
    if (every + jitter > (UPLOADED_CERTIFICATES_LIFETIME_MINUTES - 10) * 60_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['every'],
        message: `plus jitter must stay under ${UPLOADED_CERTIFICATES_LIFETIME_MINUTES - 10}m: uploaded certificates live ${UPLOADED_CERTIFICATES_LIFETIME_MINUTES}m, so a longer gap leaves no valid key`,
      });
    }
    if (jitter > every / 2) ctx.addIssue({ code: 'custom', path: ['jitter'], message: 'must be at most half of every' });
    if (catchup < 60_000)
      ctx.addIssue({
        code: 'custom',
        path: ['catchupWindow'],
        message: "must be at least 1m (Temporal's minimum catch-up window is 10 s; kubeha asks for a useful one)",
      });
  });
/** Schedule settings as written. */
export type RotationScheduleInput = z.input<typeof rotationScheduleSchema>;
/** Schedule settings with defaults. */
export type RotationScheduleSettings = z.output<typeof rotationScheduleSchema>;

/** The schedule id of a cluster's rotation: one schedule per cluster. */
export function rotationScheduleId(clusterName: string): string {
  return `rotate-certificate-key-${clusterName}`;
}

/** The admin kubeconfig's name in the worker's secret store, as the host activities store it at init. */
export function defaultKubeconfigSecret(clusterName: string): string {
  return `clusters/${clusterName}/admin-kubeconfig`;
}
