/**
 * The Temporal client the commands share, built from the environment ({@link temporalSettings}), and the
 * error type the commands use to end with a message and an exit code.
 */
import { kubehaDataConverter } from '../lib/codec/dataConverter';
import { CodecKeyError, requireSharedKeys } from '../lib/codec/keyring';
import { Client, Connection } from '@temporalio/client';
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../common/inputs/rotateCertificateKey';
import { CliError } from '../lib/cliError';
import { temporalSettings, type TemporalSettings } from '../lib/config';
import { temporalConnectionOptions } from '../lib/temporalConnection';

export { CliError, temporalConnectionOptions };
export type { TemporalConnectionOptions } from '../lib/temporalConnection';

/** A connected client and what it was built from. Close it when done, or the process stays alive. */
export interface KubehaClient {
  client: Client;
  settings: TemporalSettings;
  close(): Promise<void>;
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

/** Runs `fn` with a client for the configured Temporal and its task queue, closing the connection after. */
export async function withKubehaClient<T>(fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> {
  const kubeha = await connectClient();
  try {
    return await fn(kubeha.client, kubeha.settings.taskQueue);
  } finally {
    await kubeha.close();
  }
}

/** A commander parser for a duration option (`90m`, `1h30m`, `45s`), refused before anything runs. */
export function durationArgument(value: string): string {
  if (parseDuration(value) === undefined) throw new InvalidArgumentError('must be a duration like 90m, 1h30m or 45s');
  return value;
}
