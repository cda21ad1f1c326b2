/**
 * The lab's topology: which clusters, which hosts with which roles and addresses, and the lab's
 * timing settings. A JSON file validated here (`kubeha lab up --topology file`), or the default:
 * west with 3 control planes, 1 spare and 2 workers; east with 1 control plane and 1 worker.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { dnsLabel, hostRoleSchema } from '../../common/inputs/shared';

const ipv4 = z.ipv4({ message: 'must be an IPv4 address' });
const loopback = ipv4.refine((a) => a.startsWith('127.'), 'must be a loopback address (127.x.y.z): every lab host lives on this machine');

/** One lab host. */
export const labHostSchema = z.strictObject({
  name: dnsLabel,
  address: loopback,
  role: hostRoleSchema,
});
/** A host of the topology. */
export type LabTopologyHost = z.infer<typeof labHostSchema>;

/** One cluster: its AWS region, network and hosts (the first control plane is the primary). */
export const labClusterSchema = z.strictObject({
  name: dnsLabel,
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region like "us-east-1"'),
  /** The moto VPC's CIDR; two /24 subnets in zones a and b are cut from it. */
  vpcCidr: z.string().regex(/^\d{1,3}\.\d{1,3}\.0\.0\/16$/, 'must be a /16 like "10.10.0.0/16"'),
  hosts: z.array(labHostSchema).min(1),
});
/** A cluster of the topology. */
export type LabCluster = z.infer<typeof labClusterSchema>;

/** The whole lab. */
export const labTopologySchema = z
  .strictObject({
    clusters: z.array(labClusterSchema).min(1),
    /** SSH port of every host (each host has its own address, so all can use 22). */
    sshPort: z.number().int().min(1).max(65535).default(22),
    /** Loopback addresses handed to load balancers: `<prefix>.1` to `<prefix>.254`. */
    loadBalancerAddressPrefix: z
      .string()
      .regex(/^127\.\d{1,3}\.\d{1,3}$/, 'must be like "127.0.99"')
      .default('127.0.99'),
    /** Suffix of the /etc/hosts block markers; set it when two labs share a machine. */
    hostsBlockLabel: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .optional(),
    /** Lab AWS timing: target group health checks run this much faster than configured. */
    healthCheckIntervalScale: z.number().positive().max(1).default(0.2),
    /** Lab AWS timing: deregistration delay (moto: 300 s) multiplied by this. */
    deregistrationDelayScale: z.number().min(0).max(1).default(0.02),
    /** The front's port (0: any free port). */
    awsFrontPort: z.number().int().min(0).max(65535).default(0),
    /** Host tool settings (state.json `settings`), see lab/README.md and lab/kube/README.md. */
    settings: z
      .strictObject({
        aptLatestPatch: z.number().int().min(0).max(99).default(5),
        unitRestartSeconds: z.number().positive().default(10),
        uploadedCertsTtlSeconds: z.number().int().positive().default(7200),
        nodeHeartbeatSeconds: z.number().positive().default(5),
        discoveryTimeoutSeconds: z.number().int().positive().default(300),
      })
      .default({ aptLatestPatch: 5, unitRestartSeconds: 10, uploadedCertsTtlSeconds: 7200, nodeHeartbeatSeconds: 5, discoveryTimeoutSeconds: 300 }),
  })
  .superRefine((topology, ctx) => {
    const names = new Set<string>();
    const addresses = new Set<string>();
    topology.clusters.forEach((cluster, c) => {
      cluster.hosts.forEach((host, h) => {
        if (names.has(host.name)) ctx.addIssue({ code: 'custom', path: ['clusters', c, 'hosts', h, 'name'], message: `host name ${host.name} is used twice` });
        if (addresses.has(host.address))
          ctx.addIssue({ code: 'custom', path: ['clusters', c, 'hosts', h, 'address'], message: `address ${host.address} is used twice` });
        names.add(host.name);
        addresses.add(host.address);
      });
      if (!cluster.hosts.some((h) => h.role === 'control-plane'))
        ctx.addIssue({ code: 'custom', path: ['clusters', c, 'hosts'], message: `cluster ${cluster.name} needs a control-plane host` });
    });
    if (new Set(topology.clusters.map((c) => c.name)).size !== topology.clusters.length)
      ctx.addIssue({ code: 'custom', path: ['clusters'], message: 'cluster names must be unique' });
  });
/** The lab topology with every default filled in. */
export type LabTopology = z.output<typeof labTopologySchema>;
/** The topology as written in a file. */
export type LabTopologyInput = z.input<typeof labTopologySchema>;

function cluster(name: string, region: string, octet: number, roles: LabTopologyHost['role'][]): LabCluster {
  const count: Record<string, number> = {};
  const prefix: Record<LabTopologyHost['role'], string> = { 'control-plane': 'cp', 'spare-control-plane': 'spare', worker: 'worker' };
  return {
    name,
    region,
    vpcCidr: `10.${octet}.0.0/16`,
    hosts: roles.map((role, i) => {
      count[role] = (count[role] ?? 0) + 1;
      return { name: `${name}-${prefix[role]}-${count[role]}`, address: `127.0.${octet}.${i + 1}`, role };
    }),
  };
}

/** The default lab (lab/README.md): west 127.0.10.N, east 127.0.20.N. */
export function defaultTopologyInput(): LabTopologyInput {
  return {
    clusters: [
      cluster('west', 'us-west-2', 10, ['control-plane', 'control-plane', 'control-plane', 'spare-control-plane', 'worker', 'worker']),
      cluster('east', 'us-east-1', 20, ['control-plane', 'worker']),
    ],
  };
}

/** Validates a topology; the error lists every bad field with its path. */
export function parseTopology(value: unknown, source = 'topology'): LabTopology {
  const result = labTopologySchema.safeParse(value);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${source} is not a valid lab topology:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Reads a topology file, or the default when `file` is undefined. */
export function loadTopology(file?: string): LabTopology {
  if (!file) return parseTopology(defaultTopologyInput(), 'the default topology');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read topology ${file}: ${(err as Error).message}`);
  }
  return parseTopology(raw, file);
}
