/**
 * A {@link SecretStore} in Kubernetes Secrets of one namespace (of the cluster that runs kubeha), shared
 * by every worker. Each kubeha secret is one Secret named from a hash of its name (kubeha's names have
 * slashes; Secret names may not), with the name in an annotation. Writes are compare-and-swap on the
 * object's resourceVersion, so two workers never overwrite each other unseen; creation is create-only,
 * so the first of two writers of a new secret wins.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from '../kubernetes/client';
import type { SecretName } from '../types';
import { secretMissing, type SecretStore } from './store';

/** The annotation that holds the kubeha name of a Secret. */
export const SECRET_NAME_ANNOTATION = 'kubeha.io/secret-name';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kubeha' };
/** How often a write retries after losing a compare-and-swap race (with a short random pause). */
const CAS_ATTEMPTS = 12;

interface SecretObject {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** The Secret's object name for a kubeha secret name. */
export function kubernetesSecretName(name: SecretName): string {
  return `kubeha-${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}

/** Kubernetes Secrets in `namespace`, through `client` (a ServiceAccount with get/create/update/delete on Secrets there). */
export class KubernetesSecretStore implements SecretStore {
  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
  ) {}

  private collection(): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/secrets`;
  }

  private pathOf(name: SecretName): string {
    return `${this.collection()}/${kubernetesSecretName(name)}`;
  }

  private object(name: SecretName, value: string, resourceVersion?: string): SecretObject & Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: kubernetesSecretName(name), resourceVersion, labels: MANAGED_BY, annotations: { [SECRET_NAME_ANNOTATION]: name } },
      data: { value: Buffer.from(value, 'utf8').toString('base64') },
    } as SecretObject & Record<string, unknown>;
  }

  private async read(name: SecretName): Promise<SecretObject | undefined> {
    const res = await this.client.request('GET', this.pathOf(name));
    if (res.status === 404) return undefined;
    if (res.status !== 200)
      throw this.client.failure(
        new Error(`HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`),
        `read secret "${name}" from namespace ${this.namespace}`,
      );
    const found = res.body as SecretObject;
    // A hash collision, or a Secret someone else made: never hand out another secret's value.
    if (found.metadata.annotations?.[SECRET_NAME_ANNOTATION] !== name)
      throw new Error(`Secret ${found.metadata.name} in ${this.namespace} does not hold kubeha secret "${name}"`);
    return found;
  }

  private failed(status: number, body: unknown, what: string): Error {
    return this.client.failure(new Error(`HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`), what);
  }

  async get(name: SecretName): Promise<string> {
    const found = await this.read(name);
    if (!found?.data?.value) throw secretMissing(name, `Kubernetes Secrets in namespace ${this.namespace}`);
    return Buffer.from(found.data.value, 'base64').toString('utf8');
  }

  async has(name: SecretName): Promise<boolean> {
    return (await this.read(name)) !== undefined;
  }

  async put(name: SecretName, value: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(name);
      const res = current
        ? await this.client.request('PUT', this.pathOf(name), JSON.stringify(this.object(name, value, current.metadata.resourceVersion)))
        : await this.client.request('POST', this.collection(), JSON.stringify(this.object(name, value)));
      if (res.status >= 200 && res.status < 300) return;
      // 409: another worker wrote between the read and this write; read again and write over its value.
      if (res.status !== 409 || attempt >= CAS_ATTEMPTS) throw this.failed(res.status, res.body, `write secret "${name}" to namespace ${this.namespace}`);
      await sleep(10 + Math.floor(Math.random() * 40 * attempt));
    }
  }

  async putIfAbsent(name: SecretName, value: string): Promise<string> {
    const res = await this.client.request('POST', this.collection(), JSON.stringify(this.object(name, value)));
    if (res.status >= 200 && res.status < 300) return value;
    if (res.status !== 409) throw this.failed(res.status, res.body, `create secret "${name}" in namespace ${this.namespace}`);
    return this.get(name);
  }

  async delete(name: SecretName): Promise<void> {
    const res = await this.client.request('DELETE', this.pathOf(name));
    if (res.status !== 404 && (res.status < 200 || res.status > 299))
      throw this.failed(res.status, res.body, `delete secret "${name}" from namespace ${this.namespace}`);
  }
}
