/**
 * The Temporal client the commands share, built from the environment ({@link temporalSettings}), and the
 * error type the commands use to end with a message and an exit code.
 */
import path from 'node:path';
import { kubehaDataConverter } from '../lib/codec/dataConverter';
import { CodecKeyError, requireSharedKeys } from '../lib/codec/keyring';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { temporalSettings, type TemporalSettings } from '../lib/config';

/** An error a command ends with: the message is printed as is (no stack), the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    /** 1: the operation failed; 2: the input or the command line is wrong. */
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A connected client and what it was built from. Close it when done, or the process stays alive. */
export interface KubehaClient {
  client: Client;
  settings: TemporalSettings;
  close(): Promise<void>;
}

/** The standard settings that name files, so that an unreadable one is reported by its setting. */
const FILE_SETTINGS = ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_CONFIG_FILE'];

/** What a Temporal connection needs beyond the address: TLS, mTLS client certificate, API key, gRPC metadata. */
export type TemporalConnectionOptions = ClientConnectConfig['connectionOptions'] & { address: string };

/**
 * The connection options every kubeha process uses (worker, CLI, webhook, codec server, schedules),
 * through @temporalio/envconfig: the profile `TEMPORAL_PROFILE` (default "default") of `temporal.toml`
 * (`TEMPORAL_CONFIG_FILE`, else the user's config directory), overridden by the standard `TEMPORAL_*`
 * variables (`TEMPORAL_TLS`, `TEMPORAL_TLS_SERVER_CA_CERT_PATH`, `TEMPORAL_TLS_CLIENT_CERT_PATH`,
 * `TEMPORAL_TLS_CLIENT_KEY_PATH`, `TEMPORAL_TLS_SERVER_NAME`, `TEMPORAL_API_KEY`, ...). Files are read
 * now: one that cannot be read throws a CliError naming the setting.
 */
export function temporalConnectionOptions(settings: TemporalSettings = temporalSettings(), env: NodeJS.ProcessEnv = process.env): TemporalConnectionOptions {
  let loaded: ClientConnectConfig;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)) });
  } catch (err) {
    const { code, path: file } = err as NodeJS.ErrnoException;
    if (!file) throw new CliError(`the Temporal connection settings are invalid: ${(err as Error).message}`, 2);
    const setting = FILE_SETTINGS.find((name) => env[name] && path.resolve(env[name]) === path.resolve(file));
    const named = setting ?? `profile "${env.TEMPORAL_PROFILE ?? 'default'}" of the Temporal config file`;
    throw new CliError(`cannot read ${file} (${code ?? 'unreadable'}), named by ${named}: make it readable by this process or fix the setting`, 2);
  }
  const options = loaded.connectionOptions;
  // TEMPORAL_ADDRESS wins (the variable everyone knows), then the profile, then kubeha's default.
  return { ...options, address: env.TEMPORAL_ADDRESS || options.address || settings.address };
}

/** How long a command waits for Temporal to answer before it says it cannot reach it. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to Temporal. Throws a {@link CliError} that names the address and how to fix it when nothing
 * answers there.
 */
export async function connectClient(settings: TemporalSettings = temporalSettings()): Promise<KubehaClient> {
  // Lazy, then connected: a failed `Connection.connect` would leave its channel open and the process alive.
  const options = temporalConnectionOptions(settings);
  const connection = Connection.lazy({ ...options, connectTimeout: CONNECT_TIMEOUT_MS });
  try {
    await connection.ensureConnected();
  } catch (err) {
    await connection.close();
    throw unreachable(settings, err);
  }
  const client = new Client({ connection, namespace: settings.namespace, dataConverter: kubehaDataConverter().dataConverter });
  return { client, settings, close: () => connection.close() };
}

/** The error for a Temporal that does not answer. */
export function unreachable(settings: TemporalSettings, cause?: unknown): CliError {
  const detail = cause instanceof Error ? ` (${rootMessage(cause)})` : '';
  return new CliError(`cannot reach Temporal at ${settings.address}${detail}: start it with \`kubeha dev\` or set TEMPORAL_ADDRESS`);
}

function rootMessage(err: Error): string {
  let current: Error = err;
  while (current.cause instanceof Error) current = current.cause;
  return current.message;
}

/** {@link requireSharedKeys} for a command: a missing key is a configuration error (exit code 2). */
export function requireCommandKeys(who: string, env: NodeJS.ProcessEnv = process.env): void {
  try {
    requireSharedKeys(who, env);
  } catch (err) {
    if (err instanceof CodecKeyError) throw new CliError(err.message, 2);
    throw err;
  }
}

/** The Web UI's page of one workflow. */
export function workflowUrl(settings: TemporalSettings, workflowId: string): string {
  return `${settings.uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
