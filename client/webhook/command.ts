/**
 * `kubeha webhook`: runs the Alertmanager webhook until SIGINT/SIGTERM. Refuses to start without
 * authentication unless `--insecure-no-auth` says this is a lab. Temporal may be down at start: the
 * server answers 503 (Alertmanager retries) until it is back.
 */
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { Client, Connection } from '@temporalio/client';
import { type Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { temporalSettings } from '../../lib/config';
import { CliError, requireCommandKeys, temporalConnectionOptions } from '../connection';
import { authConfigured } from './auth';
import { loadConfig, type WebhookConfig } from './config';
import { ALERTMANAGER_PATH, startWebhookServer, type WebhookServer } from './server';

/** Options of `kubeha webhook`. */
export interface WebhookCommandOptions {
  config: string;
  listen?: { host: string; port: number };
  insecureNoAuth: boolean;
}

function hostPort(value: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || !m[1] || port > 65535) throw new InvalidArgumentError('must be host:port, e.g. 127.0.0.1:9095');
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** Loads the configuration and checks the start rules. Throws CliError (exit 2) on a bad configuration. */
export async function prepareWebhook(options: WebhookCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<WebhookConfig> {
  let config: WebhookConfig;
  try {
    config = await loadConfig(options.config, env);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  if (options.listen) config.listen = options.listen;
  if (!authConfigured(config.auth) && !options.insecureNoAuth) {
    throw new CliError(
      'refusing to start: no authentication is configured (auth.bearerToken or auth.basic); anyone who reaches the port could trigger a failover. For a lab only, pass --insecure-no-auth.',
      2,
    );
  }
  return config;
}

/** Runs the webhook until the process is told to stop; resolves once closed. */
export async function webhookCommand(options: WebhookCommandOptions): Promise<void> {
  const config = await prepareWebhook(options);
  requireCommandKeys('kubeha webhook');
  const settings = temporalSettings();
  // TLS, client certificate and API key as the worker and the CLI read them: an unreadable file stops it here.
  const connectionOptions = temporalConnectionOptions(settings);
  const logger = pino({ name: 'kubeha-webhook' }, pino.destination(2));
  if (!authConfigured(config.auth)) logger.warn('running WITHOUT authentication (--insecure-no-auth): lab use only');
  const connection = Connection.lazy({ ...connectionOptions, connectTimeout: 5_000 });
  // The webhook writes workflow inputs and signals: encrypted like everything kubeha sends to Temporal.
  const client = new Client({ connection, namespace: settings.namespace, dataConverter: kubehaDataConverter().dataConverter });
  let server: WebhookServer;
  try {
    server = await startWebhookServer({ config, client, taskQueue: config.taskQueue ?? settings.taskQueue, logger });
  } catch (err) {
    await connection.close();
    throw new CliError(`cannot listen on ${config.listen.host}:${config.listen.port}: ${(err as Error).message}`);
  }
  // Listen for the stop signals before saying it runs: a supervisor may stop it right after that line.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  logger.info({ url: `${server.url}${ALERTMANAGER_PATH}`, temporal: connectionOptions.address, routes: config.routes.map((r) => r.name) }, 'webhook listening');
  process.stdout.write(`kubeha webhook listening on ${server.url}${ALERTMANAGER_PATH} (Temporal ${connectionOptions.address})\n`);
  await stopped;
  logger.info('stopping');
  await server.close();
  await connection.close();
}

/** Adds `kubeha webhook` to the command tree (commander 14). */
export function registerWebhookCommand(program: Command): Command {
  return program
    .command('webhook')
    .description('receive Prometheus Alertmanager notifications and start or signal FailoverToEast')
    .requiredOption('-c, --config <file>', 'routing and auth configuration (YAML or JSON)')
    .option('--listen <host:port>', 'override listen.host and listen.port of the configuration', hostPort)
    .option('--insecure-no-auth', 'allow running without authentication (labs only)', false)
    .action((options: WebhookCommandOptions) => webhookCommand(options));
}
