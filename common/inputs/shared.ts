/**
 * Schema pieces every workflow input shares: hosts, SSH, secret references, AWS settings.
 * Pure zod: workflows import these, so no Node built-ins here.
 */
import { z } from 'zod';

/** DNS-1123 label: what Kubernetes accepts as a node or cluster name. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending alphanumeric');

const ipv4 = z.ipv4({ message: 'must be an IPv4 address' });

/**
 * Where a secret lives. kubeha never takes key material in an input: inputs are stored in
 * Temporal's history, so they carry only a reference the worker resolves.
 */
export const secretRefSchema = z.union(
  [
    z.strictObject({ file: z.string().min(1).startsWith('/', 'must be an absolute path') }),
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }),
  ],
  { message: 'must be a reference: {"file": "/absolute/path"} or {"env": "VAR_NAME"}, never the secret itself' },
);
/** A reference to a secret: a file path or an environment variable, resolved by the worker. */
export type SecretRef = z.infer<typeof secretRefSchema>;

/** SHA256:base64 as printed by `ssh-keygen -lf` (padding stripped). */
const sshFingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be an OpenSSH SHA-256 fingerprint like "SHA256:" followed by 43 base64 characters (ssh-keygen -lf)');

/** How kubeha reaches a host over SSH. */
export const sshSettingsSchema = z
  .strictObject({
    user: z.string().min(1).max(32).regex(/^[a-z_][a-z0-9_-]*$/, 'must be a Linux user name').default('root'),
    port: z.number().int().min(1).max(65535).default(22),
    privateKey: secretRefSchema,
    /** The pinned host key. Required unless trustOnFirstUse is true. */
    hostKeyFingerprint: sshFingerprint.optional(),
    /** Accept and pin whatever key the host shows first. Only for labs and freshly built hosts. */
    trustOnFirstUse: z.boolean().default(false),
    connectTimeoutSeconds: z.number().int().min(1).max(300).default(15),
  })
  .refine((s) => s.hostKeyFingerprint !== undefined || s.trustOnFirstUse, {
    message: 'hostKeyFingerprint is required unless trustOnFirstUse is true',
    path: ['hostKeyFingerprint'],
  });
/** SSH settings of one host. */
export type SshSettings = z.infer<typeof sshSettingsSchema>;

/** The roles a host can have in a stacked-etcd cluster. */
export const hostRoleSchema = z.enum(['control-plane', 'spare-control-plane', 'worker']);
/** control-plane: in the load balancer; spare-control-plane: etcd member kept out of it; worker. */
export type HostRole = z.infer<typeof hostRoleSchema>;

/** One Linux host. */
export const hostSchema = z.strictObject({
  name: dnsLabel,
  address: ipv4,
  role: hostRoleSchema,
  ssh: sshSettingsSchema,
});
/** A host as kubeha uses it. */
export type HostSpec = z.infer<typeof hostSchema>;

/** AWS settings: region, optional endpoint (private endpoints or moto), and the network. */
export const awsSettingsSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region like "us-east-1"'),
  endpoint: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id like "subnet-0abc"')).min(1, 'needs at least one subnet'),
  vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id like "vpc-0abc"').optional(),
});
/** Where kubeha's AWS calls go. Credentials come from the SDK's default chain, never from the input. */
export type AwsSettings = z.infer<typeof awsSettingsSchema>;

/**
 * Run options common to every workflow: dry run, step selection by name, and what a failed step does
 * (`wait` holds the run for an operator's `retry` or `abort` signal; `fail` fails the run at once).
 */
export function stepSelectionSchema<const T extends readonly [string, ...string[]]>(stepNames: T) {
  const name = z.enum(stepNames);
  return {
    dryRun: z.boolean().default(false),
    onlySteps: z.array(name).min(1, 'must name at least one step, or be left out').optional(),
    skipSteps: z.array(name).default([]),
    onFailure: z.enum(['wait', 'fail']).default('wait'),
    /** How long a failed step waits for the operator's retry/abort before the run fails. */
    operatorTimeoutMinutes: z.number().int().min(1).max(10080).default(1440),
  };
}
