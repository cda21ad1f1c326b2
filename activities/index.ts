/**
 * All of kubeha's activities, built from their factories with real clients. The worker registers the
 * result; tests build the same factories with local peers, or replace them with stubs for workflow tests.
 */
import { loadKeyring } from '../lib/codec/keyring';
import { withLiveness } from './activityContext';
import { createBackupActivities } from './backup';
import type { BackupActivities } from './backup/types';
import { createRecoveryActivities } from './recovery';
import type { RecoveryActivities } from './recovery/types';
import { createAwsActivities, defaultAwsClients } from './aws';
import { createDnsActivities, type DnsActivities } from './dns/route53';
import { createFailoverActivities } from './failover';
import type { FailoverActivities } from './failover/types';
import { createHostActivities } from './hosts';
import { createKubernetesActivities } from './kubernetes';
import { createMeshActivities } from './mesh';
import type { MeshActivities } from './mesh/types';
import { createRotationActivities, lazyTemporalClient } from './rotation';
import type { RotationActivities } from './rotation/types';
import { secretStoreFromEnv, verifySecretStore, type ConfiguredSecretStore } from './secrets/fromEnv';
import type { SecretStore } from './secrets/store';
import { SecretStoreKnownHosts } from './ssh/storedKnownHosts';
import { activityRunOptions, createSshShell } from './ssh';
import type { RemoteShell } from './ssh/types';
import type { AwsActivities, HostActivities, KubernetesActivities } from './types';

/** Every activity kubeha's workflows call. */
export type KubehaActivities = AwsActivities &
  HostActivities &
  KubernetesActivities &
  MeshActivities &
  FailoverActivities &
  RotationActivities &
  DnsActivities &
  BackupActivities &
  RecoveryActivities;

/** The clients activities use; each can be replaced (tests, other secret stores). */
export interface ActivityDependencies {
  secrets: SecretStore;
  shell: RemoteShell;
}

/**
 * The default dependencies: the secret store the environment configures (secrets/fromEnv.ts; files
 * under the data directory by default) and the ssh2 shell. With a shared store, the trust-on-first-use
 * host keys live in it too, so every worker checks a host against the key the first one accepted.
 */
export function defaultDependencies(env: NodeJS.ProcessEnv = process.env): ActivityDependencies {
  return dependenciesFor(secretStoreFromEnv(env));
}

function dependenciesFor(configured: ConfiguredSecretStore): ActivityDependencies {
  return {
    secrets: configured.store,
    shell: createSshShell(configured.shared ? { knownHosts: new SecretStoreKnownHosts(configured.store) } : {}),
  };
}

/**
 * Merges activity groups into one registry. Temporal knows activities by name only, so two groups
 * defining the same name would silently replace one another: refuse that at start instead.
 */
export function mergeActivityGroups<T extends object>(groups: Record<string, object>): T {
  const merged: Record<string, unknown> = {};
  const owner: Record<string, string> = {};
  for (const [group, activities] of Object.entries(groups)) {
    for (const [name, fn] of Object.entries(activities)) {
      if (name in merged) throw new Error(`activity "${name}" is defined by both ${owner[name]} and ${group}`);
      merged[name] = fn;
      owner[name] = group;
    }
  }
  return merged as T;
}

/** Builds every activity from its factory. */
export function createActivities(deps: ActivityDependencies = defaultDependencies()): KubehaActivities {
  // Every activity heartbeats while it runs, so the workflows' short heartbeat timeouts hold (takeover).
  return withLiveness(
    mergeActivityGroups<KubehaActivities>({
      aws: createAwsActivities({ clientsFor: defaultAwsClients }),
      hosts: createHostActivities({ shell: deps.shell, secrets: deps.secrets, runOptions: activityRunOptions }),
      kubernetes: createKubernetesActivities({ secrets: deps.secrets }),
      mesh: createMeshActivities({ secrets: deps.secrets }),
      failover: createFailoverActivities({ secrets: deps.secrets }),
      dns: createDnsActivities(),
      rotation: createRotationActivities({ shell: deps.shell, secrets: deps.secrets, runOptions: activityRunOptions, temporal: lazyTemporalClient() }),
      // The CA bundle is sealed with the same keys as every payload, so whoever can read the histories can open it.
      backup: createBackupActivities({ shell: deps.shell, secrets: deps.secrets, runOptions: activityRunOptions, keyring: () => loadKeyring().keyring }),
      recovery: createRecoveryActivities({ shell: deps.shell, secrets: deps.secrets, runOptions: activityRunOptions }),
    }),
  );
}

/**
 * The worker's activities on the configured secret store, after checking that the store answers: a
 * worker whose store is misconfigured stops at start with the setting named.
 */
export async function workerActivities(env: NodeJS.ProcessEnv = process.env): Promise<KubehaActivities> {
  const configured = secretStoreFromEnv(env);
  await verifySecretStore(configured);
  return createActivities(dependenciesFor(configured));
}
