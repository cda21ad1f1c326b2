/**
 * The schema of kubeha's webhook configuration file (where to listen, how Alertmanager authenticates,
 * the limits, and the routes from alerts to actions). It lives in common/ because more than the webhook
 * writes such files (the lab writes one for its pair); reading and resolving the file stays in
 * client/webhook/config.ts. A route's failover is a complete FailoverToEast input, checked with the
 * workflow's own schema, so a bad route stops the server at start instead of failing a workflow later.
 */
import { z } from 'zod';
import { parseMatcher } from '../alertMatchers';
import { failoverToEastInputSchema, failoverWorkflowId } from './failoverToEast';
import { secretRefSchema } from './shared';
import { inputIssues } from '../validation';

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

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
        /**
         * HTTPS for Alertmanager across a network: the server's certificate chain and key (PEM files), and
         * optionally the CA that client certificates must chain to (Alertmanager's `tls_config.cert_file`):
         * with it, a caller without a valid client certificate is refused during the handshake.
         */
        tls: z
          .strictObject({
            certFile: absolutePath,
            keyFile: absolutePath,
            clientCaFile: absolutePath.optional(),
          })
          .optional(),
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
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024),
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
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'failover'],
          message: `differs from routes[${other.index}].failover for the same pair ${parsed.data.west.name} → ${parsed.data.east.name}; one pair has one failover`,
        });
      } else if (!other) pairs.set(id, { index: i, json });
    });
  });

function pathParts(path: string): Array<string | number> {
  if (path === '(input)') return [];
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== '')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** The configuration file as written. */
export type WebhookConfigFile = z.input<typeof webhookConfigSchema>;
