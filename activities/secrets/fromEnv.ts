/**
 * The worker's secret store, chosen by configuration, and a start-up check that it answers:
 * - `KUBEHA_SECRET_STORE=file` (the default, for `npm start` and one worker): files under KUBEHA_DATA_DIR;
 * - `kubernetes`: Secrets in `KUBEHA_SECRET_STORE_NAMESPACE` (default `kubeha`) of the cluster that runs
 *   kubeha, through `KUBEHA_SECRET_STORE_KUBECONFIG`, or in a pod its ServiceAccount;
 * - `aws-secrets-manager`: AWS Secrets Manager in `AWS_REGION`, names under `KUBEHA_SECRET_STORE_PREFIX`
 *   (default `kubeha/`), credentials from the SDK's default chain, `AWS_ENDPOINT_URL` honoured.
 * Several workers share the kubernetes or aws-secrets-manager store; each file store belongs to one worker.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { dataDir } from '../../lib/paths';
import { KubeClient } from '../kubernetes/client';
import { parseKubeconfig } from '../kubernetes/kubeconfig';
import { KubernetesSecretStore } from './kubernetesStore';
import { SecretsManagerSecretStore } from './secretsManagerStore';
import { FileSecretStore, type SecretStore } from './store';

/** The kinds of store `KUBEHA_SECRET_STORE` names. */
export const SECRET_STORE_KINDS = ['file', 'kubernetes', 'aws-secrets-manager'] as const;
export type SecretStoreKind = (typeof SECRET_STORE_KINDS)[number];

/** A store and what it is, for start-up messages. */
export interface ConfiguredSecretStore {
  kind: SecretStoreKind;
  store: SecretStore;
  /** Where it keeps secrets, in words. */
  where: string;
  /** Whether several workers can share it. */
  shared: boolean;
}

/** A configuration error that names the setting. */
export class SecretStoreConfigError extends Error {
  constructor(setting: string, rule: string) {
    super(`${setting}: ${rule}`);
    this.name = 'SecretStoreConfigError';
  }
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A kubeconfig for the pod's ServiceAccount (token file, so rotated tokens are read again). */
function inClusterKubeconfig(env: NodeJS.ProcessEnv): string {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host?.includes(':') ? `[${host}]` : host}:${port}`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'in-cluster', cluster: { server, 'certificate-authority': path.join(SERVICE_ACCOUNT, 'ca.crt') } }],
    users: [{ name: 'kubeha', user: { tokenFile: path.join(SERVICE_ACCOUNT, 'token') } }],
    contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user: 'kubeha' } }],
    'current-context': 'in-cluster',
  });
}

function kubernetesStore(env: NodeJS.ProcessEnv): ConfiguredSecretStore {
  const namespace = env.KUBEHA_SECRET_STORE_NAMESPACE || 'kubeha';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace))
    throw new SecretStoreConfigError('KUBEHA_SECRET_STORE_NAMESPACE', `must be a namespace name (DNS-1123 label), got "${namespace}"`);
  let text: string;
  let source: string;
  const file = env.KUBEHA_SECRET_STORE_KUBECONFIG;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SecretStoreConfigError('KUBEHA_SECRET_STORE_KUBECONFIG', `${file} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    source = file;
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(path.join(SERVICE_ACCOUNT, 'token'))) {
    text = inClusterKubeconfig(env);
    source = "the pod's ServiceAccount";
  } else {
    throw new SecretStoreConfigError(
      'KUBEHA_SECRET_STORE_KUBECONFIG',
      'must name a kubeconfig file when the worker does not run in a pod with a ServiceAccount',
    );
  }
  let client: KubeClient;
  try {
    client = new KubeClient(parseKubeconfig(text, source), { requestTimeoutMs: 10_000 });
  } catch (err) {
    throw new SecretStoreConfigError(file ? 'KUBEHA_SECRET_STORE_KUBECONFIG' : 'KUBERNETES_SERVICE_HOST', (err as Error).message);
  }
  return {
    kind: 'kubernetes',
    store: new KubernetesSecretStore(client, namespace),
    where: `Secrets in namespace ${namespace} of ${client.server}`,
    shared: true,
  };
}

function secretsManagerStore(env: NodeJS.ProcessEnv): ConfiguredSecretStore {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new SecretStoreConfigError('AWS_REGION', 'must name the region of the Secrets Manager store');
  const prefix = env.KUBEHA_SECRET_STORE_PREFIX ?? 'kubeha/';
  if (!/^[A-Za-z0-9/_+=.@-]{1,100}$/.test(prefix))
    throw new SecretStoreConfigError('KUBEHA_SECRET_STORE_PREFIX', 'must be letters, digits and /_+=.@- (Secrets Manager names)');
  const client = new SecretsManagerClient({ region });
  return {
    kind: 'aws-secrets-manager',
    store: new SecretsManagerSecretStore(client, prefix),
    where: `AWS Secrets Manager in ${region}, names ${prefix}*`,
    shared: true,
  };
}

/** The store `env` configures. Throws {@link SecretStoreConfigError} naming the bad setting. */
export function secretStoreFromEnv(env: NodeJS.ProcessEnv = process.env): ConfiguredSecretStore {
  const kind = (env.KUBEHA_SECRET_STORE || 'file') as SecretStoreKind;
  switch (kind) {
    case 'file': {
      const root = path.join(dataDir(env), 'secrets');
      return { kind, store: new FileSecretStore(root), where: root, shared: false };
    }
    case 'kubernetes':
      return kubernetesStore(env);
    case 'aws-secrets-manager':
      return secretsManagerStore(env);
    default:
      throw new SecretStoreConfigError('KUBEHA_SECRET_STORE', `must be one of ${SECRET_STORE_KINDS.join(', ')}, got "${kind}"`);
  }
}

/**
 * Checks at start-up that the store answers (credentials, permissions, reachability), so a worker with
 * a broken store stops with the setting named instead of failing its first activity.
 */
export async function verifySecretStore(configured: ConfiguredSecretStore): Promise<void> {
  try {
    await configured.store.has('kubeha-start-up-probe');
  } catch (err) {
    const setting =
      configured.kind === 'kubernetes'
        ? 'KUBEHA_SECRET_STORE_KUBECONFIG'
        : configured.kind === 'aws-secrets-manager'
          ? 'AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE or a role)'
          : 'KUBEHA_DATA_DIR';
    throw new SecretStoreConfigError(setting, `the ${configured.kind} secret store (${configured.where}) does not answer: ${(err as Error).message}`);
  }
}
