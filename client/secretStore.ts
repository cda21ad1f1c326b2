/**
 * The worker command's check of its secret store (KUBEHA_SECRET_STORE and its settings): a bad kind,
 * a missing kubeconfig or region, or a store that does not answer stops `kubeha worker` at once with
 * the setting named, before it connects to Temporal or takes any task.
 */
import { secretStoreFromEnv, SecretStoreConfigError, verifySecretStore, type ConfiguredSecretStore } from '../activities/secrets/fromEnv';
import { CliError } from './connection';

/** The configured store, checked; a {@link CliError} (exit 2) naming the setting when it is wrong. */
export async function requireSecretStore(env: NodeJS.ProcessEnv = process.env): Promise<ConfiguredSecretStore> {
  try {
    const configured = secretStoreFromEnv(env);
    await verifySecretStore(configured);
    return configured;
  } catch (err) {
    if (err instanceof SecretStoreConfigError) throw new CliError(`secret store: ${err.message}`, 2);
    throw err;
  }
}
