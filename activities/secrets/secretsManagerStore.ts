/**
 * A {@link SecretStore} in AWS Secrets Manager, shared by every worker: one secret per kubeha secret,
 * under a prefix (`kubeha/` by default). Writes carry a ClientRequestToken derived from the value, so a
 * retried write (a worker that died before it heard the answer) is the same version, not a second one;
 * creation is create-only, so the first of two writers of a new secret wins.
 */
import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretName } from '../types';
import { secretMissing, type SecretStore } from './store';

function errorName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? '';
}

/** A request token for one name and value: the same write asked twice is one version. */
function requestToken(name: SecretName, value: string): string {
  return createHash('sha256').update(name).update('\0').update(value).digest('hex').slice(0, 64);
}

/** Secrets Manager secrets named `<prefix><name>`. */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    readonly prefix = 'kubeha/',
  ) {}

  private id(name: SecretName): string {
    return `${this.prefix}${name}`;
  }

  async get(name: SecretName): Promise<string> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.id(name) }));
      if (out.SecretString === undefined) throw secretMissing(name, `Secrets Manager ${this.id(name)}`);
      return out.SecretString;
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') throw secretMissing(name, `Secrets Manager ${this.id(name)}`);
      throw err;
    }
  }

  async has(name: SecretName): Promise<boolean> {
    try {
      const out = await this.client.send(new DescribeSecretCommand({ SecretId: this.id(name) }));
      return out.DeletedDate === undefined;
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return false;
      throw err;
    }
  }

  async put(name: SecretName, value: string): Promise<void> {
    const token = requestToken(name, value);
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: this.id(name),
          SecretString: value,
          ClientRequestToken: token,
          Tags: [{ Key: 'app.kubernetes.io/managed-by', Value: 'kubeha' }],
        }),
      );
    } catch (err) {
      if (errorName(err) !== 'ResourceExistsException') throw err;
      await this.client.send(new PutSecretValueCommand({ SecretId: this.id(name), SecretString: value, ClientRequestToken: token }));
    }
  }

  async putIfAbsent(name: SecretName, value: string): Promise<string> {
    try {
      await this.client.send(new CreateSecretCommand({ Name: this.id(name), SecretString: value, ClientRequestToken: requestToken(name, value) }));
      return value;
    } catch (err) {
      if (errorName(err) !== 'ResourceExistsException') throw err;
      return this.get(name);
    }
  }

  async delete(name: SecretName): Promise<void> {
    try {
      // Join credentials and kubeconfigs are gone when kubeha says so: no recovery window.
      await this.client.send(new DeleteSecretCommand({ SecretId: this.id(name), ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (errorName(err) !== 'ResourceNotFoundException') throw err;
    }
  }
}
