/**
 * The webhook's configuration file (YAML or JSON), validated in full at start: where to listen, how
 * Alertmanager authenticates, the limits, and the routes from alerts to actions. A route's failover
 * is a complete FailoverToEast input, checked with the workflow's own schema, so a bad route stops the
 * server at start instead of failing a workflow during an incident.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { failoverToEastInputSchema, failoverWorkflowId, type FailoverToEastInput } from '../../common/inputs/failoverToEast';
import { secretRefSchema, type SecretRef } from '../../common/inputs/shared';
import { inputIssues } from '../../common/validation';
import { parseMatcher, type Matcher } from './matchers';

const routeName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label (lowercase letters, digits, "-")');

const matchersSchema = z
  .array(z.string().min(1).max(1000))
  .min(1, 'needs at least one matcher, e.g. alertname="WestDown"')
  .max(20)
  .superRefine((list, ctx) => {
    list.forEach((m, i) => {
      try {
        parseMatcher(m);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [i], message: (err as Error).message });
      }
    });
  });

const routeSchema = z.discriminatedUnion('action', [
  z.strictObject({
    name: routeName,
    matchers: matchersSchema,
    action: z.literal('failover'),
    /** The FailoverToEast input this route starts (or signals, when the pair's failover runs already). */
    failover: z.unknown().superRefine((value, ctx) => {
      const parsed = failoverToEastInputSchema.safeParse(value);
      if (parsed.success) return;
      for (const issue of inputIssues(parsed.error)) ctx.addIssue({ code: 'custom', path: pathParts(issue.path), message: issue.message });
    }),
  }),
  z.strictObject({
    name: routeName,
    matchers: matchersSchema,
    action: z.literal('ignore'),
    /** Said in the 200 answer, e.g. "Watchdog: nothing to do". */
    reason: z.string().max(200).optional(),
  }),
]);

/** The webhook's configuration file. */
export const webhookConfigSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(9095),
      })
      .default({ host: '127.0.0.1', port: 9095 }),
    /** What Alertmanager sends: `http_config.authorization` (Bearer) and/or `basic_auth`. */
    auth: z
      .strictObject({
        bearerToken: secretRefSchema.optional(),
        basic: z.strictObject({ username: z.string().min(1).max(200), password: secretRefSchema }).optional(),
      })
      .default({}),
    limits: z
      .strictObject({
        maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
        maxJsonDepth: z.number().int().min(4).max(200).default(16),
        maxAlerts: z.number().int().min(1).max(100_000).default(1000),
        /** How long a call to Temporal may take before the delivery is answered 503 (Alertmanager retries). */
        temporalTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
      })
      .default({ maxBodyBytes: 1024 * 1024, maxJsonDepth: 16, maxAlerts: 1000, temporalTimeoutMs: 5000 }),
    /**
     * An identical delivery (same workflow, status and alerts) within this many seconds of one Temporal
     * accepted is answered from memory instead of signalled again: Alertmanager's duplicates then cost
     * no history. 0 signals every delivery.
     */
    dedupeSeconds: z.number().min(0).max(3600).default(10),
    /** Task queue of the kubeha worker; default KUBEHA_TASK_QUEUE or `kubeha`. */
    taskQueue: z.string().min(1).max(200).optional(),
    routes: z.array(routeSchema).min(1, 'needs at least one route').max(200),
  })
  .superRefine((config, ctx) => {
    const names = new Map<string, number>();
    const pairs = new Map<string, { index: number; json: string }>();
    config.routes.forEach((route, i) => {
      const at = names.get(route.name);
      if (at !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `duplicates routes[${at}].name "${route.name}"` });
      else names.set(route.name, i);
      if (route.action !== 'failover') return;
      const parsed = failoverToEastInputSchema.safeParse(route.failover);
      if (!parsed.success) return;
      // One workflow per pair: two routes for one pair must start the same failover.
      const id = failoverWorkflowId(parsed.data.west.name, parsed.data.east.name);
      const json = JSON.stringify(parsed.data);
      const other = pairs.get(id);
      if (other && other.json !== json) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'failover'], message: `differs from routes[${other.index}].failover for the same pair ${parsed.data.west.name} → ${parsed.data.east.name}; one pair has one failover` });
      } else if (!other) pairs.set(id, { index: i, json });
    });
  });

function pathParts(path: string): Array<string | number> {
  if (path === '(input)') return [];
  return path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** The configuration file as written. */
export type WebhookConfigFile = z.input<typeof webhookConfigSchema>;

/** A route, ready to match. */
export type Route =
  | { name: string; matchers: Matcher[]; action: 'failover'; failover: FailoverToEastInput; workflowId: string }
  | { name: string; matchers: Matcher[]; action: 'ignore'; reason?: string };

/** Credentials the server accepts, resolved from their references. Never logged. */
export interface ResolvedAuth {
  bearerToken?: string;
  basic?: { username: string; password: string };
}

/** The configuration with routes compiled and secrets resolved. */
export interface WebhookConfig {
  listen: { host: string; port: number };
  auth: ResolvedAuth;
  limits: z.output<typeof webhookConfigSchema>['limits'];
  dedupeSeconds: number;
  taskQueue?: string;
  routes: Route[];
}

/** Reads a secret reference: a file (trailing newline dropped) or an environment variable. */
export async function readSecretRef(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let value: string | undefined;
  if ('file' in ref) {
    try {
      value = (await readFile(ref.file, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw configError(`secret file ${ref.file} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else {
    value = env[ref.env];
    if (value === undefined) throw configError(`environment variable ${ref.env} is not set`);
  }
  if (!value) throw configError(`the secret in ${'file' in ref ? ref.file : ref.env} is empty`);
  return value;
}

function configError(message: string): Error {
  return kubehaFailure({ type: ErrorType.InvalidInput, message: `webhook config: ${message}`, retryable: false, hint: 'fix the configuration file and start again' });
}

/** Validates a parsed configuration and resolves its secrets. Throws InvalidInput naming every bad field. */
export async function resolveConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): Promise<WebhookConfig> {
  const parsed = webhookConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = inputIssues(parsed.error);
    throw kubehaFailure({
      type: ErrorType.InvalidInput,
      message: `invalid webhook config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      retryable: false,
      hint: 'fix the named fields and start again',
      details: { issues },
    });
  }
  const c = parsed.data;
  const auth: ResolvedAuth = {};
  if (c.auth.bearerToken) auth.bearerToken = await readSecretRef(c.auth.bearerToken, env);
  if (c.auth.basic) auth.basic = { username: c.auth.basic.username, password: await readSecretRef(c.auth.basic.password, env) };
  const routes: Route[] = c.routes.map((r) => {
    const matchers = r.matchers.map(parseMatcher);
    if (r.action === 'ignore') return { name: r.name, matchers, action: 'ignore', reason: r.reason };
    const failover = r.failover as FailoverToEastInput;
    return { name: r.name, matchers, action: 'failover', failover, workflowId: failoverWorkflowId(failover.west.name, failover.east.name) };
  });
  return { listen: c.listen, auth, limits: c.limits, dedupeSeconds: c.dedupeSeconds, taskQueue: c.taskQueue, routes };
}

/** Reads and resolves a configuration file (YAML or JSON). */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<WebhookConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw configError(`${file} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw configError(`${file} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  return resolveConfig(raw, env);
}
