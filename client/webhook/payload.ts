/**
 * Alertmanager's webhook body (version 4), read with limits before anything trusts it: a byte limit
 * while streaming, a nesting limit before JSON.parse, then a schema with clear messages. A
 * {@link PayloadError} carries the HTTP status to answer (4xx: Alertmanager never retries those).
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { inputIssues } from '../../common/validation';

/** A request the webhook refuses, with the status to answer. */
export class PayloadError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: string,
    message: string,
  ) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** Reads the body, refusing more than `maxBytes` (413) as soon as it is exceeded. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(new PayloadError(413, 'too_large', `body of ${declared} bytes exceeds the limit of ${maxBytes}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        reject(new PayloadError(413, 'too_large', `body exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
      done = true;
    });
    req.on('error', (err) => {
      if (!done) reject(new PayloadError(400, 'bad_request', `body could not be read: ${err.message}`));
      done = true;
    });
  });
}

/** The deepest nesting of arrays and objects in JSON text, counted without parsing (strings skipped). */
export function jsonDepth(text: string, stopAbove: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (max > stopAbove) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

const labelName = z.string().max(256);
const labelSet = z.record(labelName, z.string().max(4096));

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved'], { message: 'must be "firing" or "resolved"' }),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: z.string().min(1).max(64),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().min(1, "must be Alertmanager's alert fingerprint").max(64),
});

/** Builds the body schema with the configured alert limit. Unknown fields are allowed (newer Alertmanagers add some). */
export function notificationSchema(maxAlerts: number) {
  return z.object({
    version: z.literal('4', { message: 'must be "4" (Alertmanager webhook format version 4)' }),
    groupKey: z.string().min(1).max(8192),
    truncatedAlerts: z.number().int().min(0).default(0),
    status: z.enum(['firing', 'resolved'], { message: 'must be "firing" or "resolved"' }),
    receiver: z.string().max(1024),
    groupLabels: labelSet.default({}),
    commonLabels: labelSet.default({}),
    commonAnnotations: labelSet.default({}),
    externalURL: z.string().max(4096).default(''),
    alerts: z
      .array(alertSchema)
      .min(1, 'needs at least one alert')
      .max(maxAlerts, `has more than ${maxAlerts} alerts; set max_alerts in the Alertmanager webhook_config`),
  });
}

/** Built once per alert limit: building a zod schema costs far more than using it. */
const schemas = new Map<number, ReturnType<typeof notificationSchema>>();
function schemaFor(maxAlerts: number): ReturnType<typeof notificationSchema> {
  let schema = schemas.get(maxAlerts);
  if (!schema) {
    schema = notificationSchema(maxAlerts);
    schemas.set(maxAlerts, schema);
  }
  return schema;
}

/** A validated notification. */
export type Notification = z.output<ReturnType<typeof notificationSchema>>;

/** Parses and validates a body. Throws {@link PayloadError} (400) naming every bad field. */
export function parseNotification(body: Buffer, limits: { maxJsonDepth: number; maxAlerts: number }): Notification {
  const text = body.toString('utf8');
  if (!text.trim()) throw new PayloadError(400, 'bad_request', 'empty body; expected an Alertmanager webhook notification (JSON)');
  const depth = jsonDepth(text, limits.maxJsonDepth);
  if (depth > limits.maxJsonDepth) throw new PayloadError(400, 'bad_request', `JSON nests deeper than ${limits.maxJsonDepth} levels`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PayloadError(400, 'bad_request', `malformed JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new PayloadError(400, 'bad_request', 'the body must be a JSON object');
  const version = (raw as { version?: unknown }).version;
  if (version !== '4') {
    throw new PayloadError(
      400,
      'bad_version',
      `unsupported webhook version ${JSON.stringify(version ?? null).slice(0, 40)}: kubeha reads Alertmanager's version "4"`,
    );
  }
  const parsed = schemaFor(limits.maxAlerts).safeParse(raw);
  if (!parsed.success) {
    const issues = inputIssues(parsed.error).slice(0, 20);
    throw new PayloadError(400, 'bad_request', `invalid notification: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
