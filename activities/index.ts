/**
 * All of kubeha's activities, built from their factories with real clients. The worker registers the
 * result; tests build the same factories with local peers, or replace them with stubs for workflow tests.
 */
import path from 'node:path';
import { createAwsActivities, defaultAwsClients } from './aws';
import { createHostActivities } from './hosts';
import { createKubernetesActivities } from './kubernetes';
import { FileSecretStore, type SecretStore } from './secrets/store';
import { activityRunOptions, createSshShell } from './ssh';
import type { RemoteShell } from './ssh/types';
import type { AwsActivities, HostActivities, KubernetesActivities } from './types';
import { dataDir } from '../lib/paths';

/** Every activity kubeha's workflows call. */
export type KubehaActivities = AwsActivities & HostActivities & KubernetesActivities;

/** The clients activities use; each can be replaced (tests, other secret stores). */
export interface ActivityDependencies {
  secrets: SecretStore;
  shell: RemoteShell;
}

/** The default dependencies: file secret store and known hosts under the data directory, ssh2 shell. */
export function defaultDependencies(env: NodeJS.ProcessEnv = process.env): ActivityDependencies {
  return {
    secrets: new FileSecretStore(path.join(dataDir(env), 'secrets')),
    shell: createSshShell({}),
  };
}

/** Builds every activity from its factory. */
export function createActivities(deps: ActivityDependencies = defaultDependencies()): KubehaActivities {
  return {
    ...createAwsActivities({ clientsFor: defaultAwsClients }),
    ...createHostActivities({ shell: deps.shell, secrets: deps.secrets, runOptions: activityRunOptions }),
    ...createKubernetesActivities({ secrets: deps.secrets }),
  };
}
