/**
 * How every kubeha process connects to Temporal (worker, CLI, webhook, codec server, the rotation
 * schedule's client), in one place under lib/ so that activities can use it without the CLI.
 */
import path from 'node:path';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { CliError } from './cliError';
import { temporalSettings, type TemporalSettings } from './config';

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
