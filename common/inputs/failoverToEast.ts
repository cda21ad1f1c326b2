/**
 * The input of FailoverToEast, as one JSON object (the Web UI's Start Workflow form takes one value),
 * and the messages the running workflow takes: alert notifications from kubeha's webhook, the
 * operator's approval, a forced failback, and the `status` query's answer.
 *
 * Shared by the workflow, the webhook (which validates its routing file with the same schema at start)
 * and the CLI. Pure zod: no Node built-ins.
 */
import { resolveService, serviceSchema } from './failoverServices';
import { gtmRecordKey, route53SettingsSchema } from './gtm';
import { z } from 'zod';
import { recoverControlPlaneInputSchema } from './recoverControlPlane';
import { awsSettingsSchema, dnsLabel, hostSchema, stepSelectionSchema } from './shared';

/** The steps of FailoverToEast, in order. `onlySteps` and `skipSteps` take these names. */
export const FAILOVER_STEPS = ['precheck', 'approve', 'control-plane', 'shift-traffic', 'hold', 'failback'] as const;
/** One of {@link FAILOVER_STEPS}. */
export type FailoverStepName = (typeof FAILOVER_STEPS)[number];

const secretName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/, 'must be a secret name in the worker\'s store, like "clusters/west/admin-kubeconfig"');

/** A cluster of the pair: its name and where the worker finds its kubeconfig. */
const clusterSchema = z.strictObject({
  name: dnsLabel,
  /** The kubeconfig's name in the worker's secret store (history holds the name, never the file). */
  kubeconfigSecret: secretName,
});

/** East's multicluster gateway, which mirrored services on west point at. */
const gatewaySchema = z.strictObject({
  namespace: dnsLabel.default('linkerd-multicluster'),
  service: dnsLabel.default('linkerd-gateway'),
});

/** Traffic steps: percentages to east, increasing, ending at 100. */
const failoverStepsSchema = z
  .array(z.number().int().min(1).max(100))
  .min(1)
  .max(10)
  .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]), 'must increase step by step')
  .refine((s) => s[s.length - 1] === 100, 'must end at 100 (all traffic to east)');

/** Failback steps: percentages to east, decreasing, ending at 0. */
const failbackStepsSchema = z
  .array(z.number().int().min(0).max(99))
  .min(1)
  .max(10)
  .refine((s) => s.every((v, i) => i === 0 || v < s[i - 1]), 'must decrease step by step')
  .refine((s) => s[s.length - 1] === 0, 'must end at 0 (all traffic back to west)');

/** The operator's approval before anything changes. */
const approvalSchema = z.strictObject({
  required: z.boolean().default(false),
  /** How long to wait for an `approve` or `reject` signal (or update). */
  timeoutMinutes: z.number().min(0.01).max(1440).default(15),
  /** What happens when nobody answers in time. */
  onTimeout: z.enum(['approve', 'reject']).default('reject'),
});

/** The spare control plane brought into the load balancer when the registered ones are unhealthy. */
const controlPlaneSchema = z
  .strictObject({
    aws: awsSettingsSchema,
    targetGroupArn: z.string().regex(/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/.+/, 'must be a target group ARN'),
    /** West's control planes (the registered targets); etcd is asked through them when the spares cannot answer. */
    controlPlanes: z.array(hostSchema).min(1).max(7),
    /** Spares to register: etcd voters kept out of the load balancer (BootstrapStackedEtcd's spare-control-plane hosts). */
    spares: z.array(hostSchema).min(1).max(7),
    /** Act when fewer registered control-plane targets than this are healthy. */
    minHealthyTargets: z.number().int().min(1).max(7).default(1),
    /** How long a newly registered spare may take to become healthy. */
    healthyDeadlineSeconds: z.number().int().min(10).max(3600).default(300),
    /**
     * When etcd lost quorum (the spare cannot serve): start RecoverControlPlane for west with an operator's
     * approval (`approve`), without one (`auto`), or not at all (`never`). Needs `recovery`.
     */
    recover: z.enum(['approve', 'auto', 'never']).default('approve'),
    /** The RecoverControlPlane input for west (its `approval.required` follows `recover`). */
    recovery: recoverControlPlaneInputSchema.optional(),
  })
  .superRefine((cp, ctx) => {
    const cps = new Set(cp.controlPlanes.map((h) => h.address));
    cp.spares.forEach((s, i) => {
      if (cps.has(s.address))
        ctx.addIssue({ code: 'custom', path: ['spares', i, 'address'], message: `is also a control plane's address; a spare is a different host` });
    });
    // Names and addresses identify etcd members and targets: one host listed twice counts twice in the quorum.
    const names = new Map<string, string>();
    const addresses = new Map<string, string>();
    for (const list of ['controlPlanes', 'spares'] as const) {
      cp[list].forEach((host, i) => {
        const where = `${list}[${i}]`;
        const nameAt = names.get(host.name);
        if (nameAt) ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: `duplicates ${nameAt}.name "${host.name}": host names must be unique` });
        else names.set(host.name, where);
        const addressAt = addresses.get(host.address);
        if (addressAt && !(list === 'spares' && cps.has(host.address)))
          ctx.addIssue({ code: 'custom', path: [list, i, 'address'], message: `duplicates ${addressAt}.address ${host.address}: addresses must be unique` });
        else if (!addressAt) addresses.set(host.address, where);
        const role = list === 'controlPlanes' ? 'control-plane' : 'spare-control-plane';
        if (host.role !== role) ctx.addIssue({ code: 'custom', path: [list, i, 'role'], message: `must be "${role}" in ${list}` });
      });
    }
    if (cp.minHealthyTargets > cp.controlPlanes.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['minHealthyTargets'],
        message: `is more than the ${cp.controlPlanes.length} control plane(s) listed: the spares would be registered on every alert`,
      });
    }
    if (cp.recover !== 'never' && cp.recovery) {
      const hosts = new Set(cp.recovery.cluster.hosts.filter((h) => h.role !== 'worker').map((h) => h.address));
      const missing = [...cp.controlPlanes, ...cp.spares].find((h) => !hosts.has(h.address));
      if (missing)
        ctx.addIssue({
          code: 'custom',
          path: ['recovery', 'cluster', 'hosts'],
          message: `has no control-plane or spare host at ${missing.address} (${missing.name}): the recovery must be of this control plane's cluster`,
        });
    }
    const voters = cp.controlPlanes.length + cp.spares.length;
    if (voters > 7) ctx.addIssue({ code: 'custom', path: ['spares'], message: `with the control planes makes ${voters} etcd voters; etcd supports at most 7` });
  });

/** When and how traffic moves back to west. */
const failbackSchema = z.strictObject({
  /** West must be healthy this long, after the alert resolved, before traffic moves back (no flapping). */
  hysteresisSeconds: z.number().int().min(1).max(86_400).default(600),
  /** How often west's health is checked during the window. */
  checkIntervalSeconds: z.number().int().min(1).max(3600).default(15),
  /** Percentages to east, decreasing, ending at 0; default: the failover steps backwards. */
  steps: failbackStepsSchema.optional(),
  /** Go back automatically once resolved and healthy (else only a `failback` signal does). */
  automatic: z.boolean().default(true),
});

/** The input of FailoverToEast. */
export const failoverToEastInputSchema = z
  .strictObject({
    west: clusterSchema,
    east: clusterSchema.extend({ gateway: gatewaySchema.default({ namespace: 'linkerd-multicluster', service: 'linkerd-gateway' }) }),
    services: z.array(serviceSchema).min(1, 'needs at least one service').max(50),
    /** Percentages of traffic to east, step by step (each verified before the next). */
    steps: failoverStepsSchema.default([50, 100]),
    approval: approvalSchema.default({ required: false, timeoutMinutes: 15, onTimeout: 'reject' }),
    controlPlane: controlPlaneSchema.optional(),
    failback: failbackSchema.default({ hysteresisSeconds: 600, checkIntervalSeconds: 15, automatic: true }),
    /** Pause between two traffic steps, for the mesh to settle and metrics to show a problem. */
    stepPauseSeconds: z.number().int().min(0).max(3600).default(10),
    /** Where Route 53 is reached, for the services with a `gtm` record. */
    route53: route53SettingsSchema.default({}),
    ...stepSelectionSchema(FAILOVER_STEPS),
  })
  .superRefine((input, ctx) => {
    if (input.west.name === input.east.name) ctx.addIssue({ code: 'custom', path: ['east', 'name'], message: 'must differ from west.name' });
    if (input.west.kubeconfigSecret === input.east.kubeconfigSecret) {
      ctx.addIssue({ code: 'custom', path: ['east', 'kubeconfigSecret'], message: "is west's kubeconfig: east must reach another cluster" });
    }
    const records = new Map<string, number>();
    input.services.forEach((s, i) => {
      if (!s.gtm) return;
      const key = gtmRecordKey(s.gtm);
      const at = records.get(key);
      if (at !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'gtm', 'recordName'],
          message: `is the record of services[${at}]: two services cannot move one set of clients`,
        });
      else records.set(key, i);
    });
    const seen = new Map<string, number>();
    input.services.forEach((s, i) => {
      const key = `${s.namespace}/${s.split.name ?? s.name}`;
      const at = seen.get(key);
      if (at !== undefined) ctx.addIssue({ code: 'custom', path: ['services', i], message: `uses the same split object ${key} as services[${at}]` });
      else seen.set(key, i);
      const resolved = resolveService(s, input.east.name, input.west.name);
      if (resolved.eastSplit && resolved.eastSplit.westBackend === resolved.eastSplit.eastBackend) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'eastSplit', 'westBackend'],
          message: `is east's own service "${resolved.eastSplit.eastBackend}": east's clients would never leave east`,
        });
      }
      if (resolved.westBackend === resolved.eastBackend) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'eastBackend'],
          message: `is west's own backend "${resolved.westBackend}": traffic would never leave west`,
        });
      }
    });
    if (input.onlySteps && input.skipSteps.some((s) => input.onlySteps?.includes(s))) {
      ctx.addIssue({ code: 'custom', path: ['skipSteps'], message: 'names a step also listed in onlySteps; choose one' });
    }
  });

/** The input as the user writes it (defaults may be left out). */
export type FailoverToEastInput = z.input<typeof failoverToEastInputSchema>;
/** The input after validation, with every default filled in. */
export type FailoverToEastConfig = z.output<typeof failoverToEastInputSchema>;

/** The failback steps: the input's, else the failover steps backwards (e.g. 50, 100 gives 50, 0). */
export function failbackSteps(config: FailoverToEastConfig): number[] {
  return config.failback.steps ?? [...config.steps.slice(0, -1).reverse(), 0];
}

/** The workflow id of the one failover a west/east pair may have at a time. */
export function failoverWorkflowId(west: string, east: string): string {
  return `failover-${west}-to-${east}`;
}

export * from './failoverMessages';
export * from './failoverServices';
