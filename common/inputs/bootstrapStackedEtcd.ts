/**
 * The input of BootstrapStackedEtcd, as one JSON object (the Web UI's Start Workflow form takes one value).
 * Validated inside the workflow before any activity runs, and by the CLI before it starts anything.
 */
import { z } from 'zod';
import { rotationScheduleSchema } from './rotateCertificateKey';
import { absolutePath, awsSettingsSchema, dnsLabel, hostSchema, stepSelectionSchema, urlWithoutCredentials } from './shared';

/** The steps of BootstrapStackedEtcd, in order. `onlySteps` and `skipSteps` take these names. */
export const BOOTSTRAP_STEPS = [
  'ensure-load-balancer',
  'prepare-hosts',
  'init-primary',
  'wait-target-healthy',
  'install-cni',
  'join-control-plane',
  'join-spare',
  'join-workers',
  'verify',
] as const;
/** One of {@link BOOTSTRAP_STEPS}. */
export type BootstrapStepName = (typeof BOOTSTRAP_STEPS)[number];

/** The manifest Calico publishes for clusters up to 50 nodes; the seed applies the Typha variant. */
export const DEFAULT_CNI_URL = 'https://raw.githubusercontent.com/projectcalico/calico/v3.29.1/manifests/calico.yaml';

const cidr = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, 'must be an IPv4 CIDR like "192.168.0.0/16"')
  .refine((v) => {
    const [ip, bits] = v.split('/');
    return ip.split('.').every((o) => Number(o) <= 255) && Number(bits) >= 8 && Number(bits) <= 28;
  }, 'must have octets up to 255 and a prefix length from /8 to /28');

/** The first and last address of an IPv4 CIDR as numbers, or undefined when it is not one. */
function cidrRange(text: string): { first: number; last: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const address = octets.reduce((n, o) => n * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const first = address - (address % size);
  return { first, last: first + size - 1 };
}

function addressNumber(address: string): number {
  return address.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Health-check settings of the target group. Cluster API uses 5 s / 2; AWS defaults are 30 s / 5. */
export const healthCheckSchema = z
  .strictObject({
    intervalSeconds: z.number().int().min(5).max(300).default(10),
    timeoutSeconds: z.number().int().min(2).max(120).default(10),
    healthyThreshold: z.number().int().min(2).max(10).default(2),
    unhealthyThreshold: z.number().int().min(2).max(10).default(2),
  })
  .refine((h) => h.timeoutSeconds <= h.intervalSeconds, { message: 'must not exceed intervalSeconds (AWS rule)', path: ['timeoutSeconds'] });
/** How the load balancer decides a target is healthy. */
export type HealthCheckSettings = z.infer<typeof healthCheckSchema>;

const lbName = z
  .string()
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/, 'must be 1-32 letters, digits or "-", not starting or ending with "-" (AWS rule)')
  .refine((n) => !n.startsWith('internal-'), 'must not start with "internal-" (AWS rule)');

/** The API's load balancer: created by kubeha, or an existing one adopted by ARN or name. */
export const loadBalancerSchema = z.strictObject({
  name: lbName,
  scheme: z.literal('internal', { message: 'must be "internal": the API stays inside the VPC (flat network)' }).default('internal'),
  /** Adopt this existing load balancer instead of creating one. */
  adopt: z
    .union([
      z.strictObject({
        arn: z.string().regex(/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/net\/.+/, 'must be a Network Load Balancer ARN'),
      }),
      z.strictObject({ name: lbName }),
    ])
    .optional(),
  targetGroup: z
    .strictObject({
      name: lbName.optional(),
      healthCheck: healthCheckSchema.default(healthCheckSchema.parse({})),
      /** How long a new target may stay `initial` or `unhealthy` before the step fails. */
      healthyDeadlineSeconds: z.number().int().min(30).max(3600).default(600),
    })
    .default({ healthCheck: healthCheckSchema.parse({}), healthyDeadlineSeconds: 600 }),
});
/** Load balancer settings. */
export type LoadBalancerSettings = z.infer<typeof loadBalancerSchema>;

/** Where the CNI manifest comes from: a URL, or a file the worker can read. */
export const cniSchema = z
  .strictObject({
    url: urlWithoutCredentials(/^https?$/, 'must be an http(s) URL').optional(),
    file: absolutePath('must be an absolute path the worker can read').optional(),
    rolloutTimeoutSeconds: z.number().int().min(10).max(3600).default(600),
  })
  .refine((c) => !(c.url && c.file), { message: 'give either url or file, not both', path: ['file'] });

/** The input of BootstrapStackedEtcd. */
export const bootstrapStackedEtcdInputSchema = z
  .strictObject({
    clusterName: dnsLabel,
    kubernetesVersion: z.string().regex(/^v?1\.(2[6-9]|3\d)\.\d{1,2}$/, 'must be a Kubernetes version from 1.26 on, like "1.31.2"'),
    podCidr: cidr.default('192.168.0.0/16'),
    serviceCidr: cidr.default('10.96.0.0/12'),
    aws: awsSettingsSchema,
    loadBalancer: loadBalancerSchema,
    hosts: z.array(hostSchema).min(1, 'needs at least one host').max(500, 'at most 500 hosts in one run'),
    cni: cniSchema.default({ rolloutTimeoutSeconds: 600 }),
    /** How many hosts are prepared or joined at once (workers; control-plane joins are always serial). */
    parallelism: z.number().int().min(1).max(50).default(5),
    /** When given, a successful bootstrap creates (or updates) the cluster's certificate-key rotation schedule. */
    rotationSchedule: rotationScheduleSchema.optional(),
    /**
     * Join credentials (bootstrap token, certificate key) go only to hosts pinned by hostKeyFingerprint;
     * true lets them go to trustOnFirstUse hosts too (whoever answers first at that address gets them).
     */
    joinCredentialsToUnpinnedHosts: z.boolean().default(false),
    ...stepSelectionSchema(BOOTSTRAP_STEPS),
  })
  .superRefine((input, ctx) => {
    const seenNames = new Map<string, number>();
    const seenAddresses = new Map<string, number>();
    input.hosts.forEach((host, i) => {
      const nameAt = seenNames.get(host.name);
      if (nameAt !== undefined)
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `duplicates hosts[${nameAt}].name "${host.name}": host names must be unique` });
      else seenNames.set(host.name, i);
      const addrAt = seenAddresses.get(host.address);
      if (addrAt !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', i, 'address'],
          message: `duplicates hosts[${addrAt}].address ${host.address}: addresses must be unique`,
        });
      else seenAddresses.set(host.address, i);
    });
    // Pods, services and nodes need separate address ranges: an overlap makes kube-proxy and the CNI
    // route a node's or a pod's traffic to the wrong place, and kubeadm does not refuse it.
    const pods = cidrRange(input.podCidr);
    const services = cidrRange(input.serviceCidr);
    if (pods && services && pods.first <= services.last && services.first <= pods.last) {
      ctx.addIssue({ code: 'custom', path: ['serviceCidr'], message: `overlaps podCidr ${input.podCidr}: pods and services need separate ranges` });
    }
    input.hosts.forEach((host, i) => {
      const n = addressNumber(host.address);
      for (const [field, range] of [
        ['podCidr', pods],
        ['serviceCidr', services],
      ] as const) {
        if (range && n >= range.first && n <= range.last) {
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', i, 'address'],
            message: `lies inside ${field} ${input[field]}: node addresses must be outside the pod and service ranges`,
          });
        }
      }
    });
    const controlPlanes = input.hosts.filter((h) => h.role === 'control-plane');
    if (controlPlanes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'needs at least one host with role "control-plane" (the first one is the primary)' });
    }
    const etcdMembers = input.hosts.filter((h) => h.role !== 'worker').length;
    if (etcdMembers > 7) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: `has ${etcdMembers} control-plane and spare hosts; etcd supports at most 7 voting members` });
    }
    if (!input.joinCredentialsToUnpinnedHosts) {
      input.hosts.forEach((host, i) => {
        if (host.ssh.hostKeyFingerprint !== undefined) return;
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', i, 'ssh', 'hostKeyFingerprint'],
          message:
            'is required for a host that receives join credentials (token, certificate key); pin it, or set joinCredentialsToUnpinnedHosts: true to send them to a trustOnFirstUse host',
        });
      });
    }
    if (input.onlySteps && input.skipSteps.some((s) => input.onlySteps?.includes(s))) {
      ctx.addIssue({ code: 'custom', path: ['skipSteps'], message: 'names a step also listed in onlySteps; choose one' });
    }
    if (input.loadBalancer.adopt === undefined && input.aws.subnetIds.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['aws', 'subnetIds'], message: 'needs subnets to create a load balancer' });
    }
  });

/** The input as the user writes it (defaults may be left out). */
export type BootstrapStackedEtcdInput = z.input<typeof bootstrapStackedEtcdInputSchema>;
/** The input after validation, with every default filled in. */
export type BootstrapStackedEtcdConfig = z.output<typeof bootstrapStackedEtcdInputSchema>;
