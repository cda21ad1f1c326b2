/**
 * The webhook's configuration file (YAML or JSON), read and validated in full at start with the schema
 * in common/inputs/webhookRoutes.ts, then resolved: secret references read, routes compiled.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { failoverWorkflowId, type FailoverToEastInput } from '../../common/inputs/failoverToEast';
import type { SecretRef } from '../../common/inputs/shared';
import { inputIssues } from '../../common/validation';
import { type Matcher, parseMatcher } from '../../common/alertMatchers';
import { webhookConfigSchema, type WebhookConfigFile } from '../../common/inputs/webhookRoutes';

export { webhookConfigSchema, type WebhookConfigFile };

/** A route, ready to match. */
export type Route =
  | { name: string; matchers: Matcher[]; action: 'failover'; failover: FailoverToEastInput; workflowId: string }
  | { name: string; matchers: Matcher[]; action: 'ignore'; reason?: string };

/** The webhook's TLS material, read from the configured files. Never logged. */
export interface WebhookTls {
  cert: string;
  key: string;
  /** When set, clients must present a certificate that chains to it. */
  clientCa?: string;
}

/** Credentials the server accepts, resolved from their references. Never logged. */
export interface ResolvedAuth {
  bearerToken?: string;
  basic?: { username: string; password: string };
}

/** The configuration with routes compiled and secrets resolved. */
export interface WebhookConfig {
  listen: { host: string; port: number; tls?: WebhookTls };
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

/** Reads a PEM file named by `field`; says which field when it is missing or holds no `what` block. */
async function readPem(file: string, field: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw configError(`${field}: ${file} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${what}-----`).test(text)) throw configError(`${field}: ${file} holds no PEM ${what}`);
  return text;
}

function configError(message: string): Error {
  return kubehaFailure({
    type: ErrorType.InvalidInput,
    message: `webhook config: ${message}`,
    retryable: false,
    hint: 'fix the configuration file and start again',
  });
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
  const listen: WebhookConfig['listen'] = { host: c.listen.host, port: c.listen.port };
  if (c.listen.tls) {
    const { certFile, keyFile, clientCaFile } = c.listen.tls;
    listen.tls = {
      cert: await readPem(certFile, 'listen.tls.certFile', 'CERTIFICATE'),
      key: await readPem(keyFile, 'listen.tls.keyFile', 'PRIVATE KEY'),
      clientCa: clientCaFile ? await readPem(clientCaFile, 'listen.tls.clientCaFile', 'CERTIFICATE') : undefined,
    };
  }
  return { listen, auth, limits: c.limits, dedupeSeconds: c.dedupeSeconds, taskQueue: c.taskQueue, routes };
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
