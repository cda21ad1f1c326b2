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
 * A host's own IPv4 address. 0.0.0.0/8 means "this host" or "any", 224/4 is multicast and 240/4
 * (255.255.255.255 included) is reserved: none can be dialled over SSH or registered as a target.
 * Loopback stays allowed: the lab's hosts live on 127.0.0.x.
 */
export const hostAddress = ipv4.refine((address) => {
  const first = Number(address.split('.')[0]);
  return first !== 0 && first < 224;
}, 'must be a unicast host address (not 0.x.x.x, multicast 224-239 or reserved 240-255)');

/**
 * An absolute path on the worker. Control characters are refused: no real file name needs a NUL or a
 * newline, Node refuses a NUL when the file is finally opened (after earlier steps already acted),
 * and a newline in a path breaks every log line and command that quotes it.
 */
export function absolutePath(rule = 'must be an absolute path') {
  return z
    .string()
    .min(1)
    .startsWith('/', rule)
    .refine((path) => !hasControlCharacter(path), 'must not contain control characters (NUL, newline, tab, ...)');
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * An http(s) URL without a user name or password in it: inputs are stored in Temporal's history, so a
 * credential there would outlive any rotation. (A regular expression, not `new URL`: workflows parse
 * inputs too.)
 */
export function urlWithoutCredentials(protocol: RegExp, rule: string) {
  return z
    .url({ protocol, message: rule })
    .refine(
      (url) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url),
      'must not contain a user name or password: keep credentials out of inputs (history stores them)',
    );
}

/**
 * Where a secret lives. kubeha never takes key material in an input: inputs are stored in
 * Temporal's history, so they carry only a reference the worker resolves.
 */
export const secretRefSchema = z.union(
  [z.strictObject({ file: absolutePath() }), z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') })],
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
    user: z
      .string()
      .min(1)
      .max(32)
      .regex(/^[a-z_][a-z0-9_-]*$/, 'must be a Linux user name')
      .default('root'),
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
  address: hostAddress,
  role: hostRoleSchema,
  ssh: sshSettingsSchema,
  /**
   * The failure domain the host lives in (an availability zone such as `us-east-1a`, a rack, a room):
   * `kubeha report` says what losing each zone does to etcd quorum and the API.
   */
  zone: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/, 'must be a zone name like "us-east-1a" (lowercase letters, digits, "-", ".")')
    .optional(),
});
/** A host as kubeha uses it. */
export type HostSpec = z.infer<typeof hostSchema>;

/** AWS settings: region, optional endpoint (private endpoints or moto), and the network. */
export const awsSettingsSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region like "us-east-1"'),
  endpoint: urlWithoutCredentials(/^https?$/, 'must be an http(s) URL').optional(),
  subnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id like "subnet-0abc"'))
    .min(1, 'needs at least one subnet')
    .superRefine((ids, ctx) => {
      ids.forEach((id, i) => {
        const first = ids.indexOf(id);
        if (first !== i) ctx.addIssue({ code: 'custom', path: [i], message: `duplicates subnetIds[${first}] "${id}"` });
      });
    }),
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id like "vpc-0abc"')
    .optional(),
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
