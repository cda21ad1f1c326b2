/**
 * Trust-on-first-use host keys kept in the secret store, so every worker sees the keys any worker
 * accepted: one entry per endpoint, written create-only, so two workers that meet a new host at once
 * pin one key (the first), and the second connection is checked against it.
 */
import { createHash } from 'node:crypto';
import type { SecretStore } from '../secrets/store';
import type { KnownHost, KnownHostsStore } from './knownHosts';

/** The secret name of an endpoint's entry. */
export function knownHostSecretName(endpoint: string): string {
  return `known-hosts/${createHash('sha256').update(endpoint).digest('hex').slice(0, 32)}`;
}

/** A {@link KnownHostsStore} on a {@link SecretStore}. */
export class SecretStoreKnownHosts implements KnownHostsStore {
  constructor(private readonly secrets: SecretStore) {}

  async lookup(endpoint: string): Promise<KnownHost | undefined> {
    const name = knownHostSecretName(endpoint);
    if (!(await this.secrets.has(name))) return undefined;
    return (JSON.parse(await this.secrets.get(name)) as { host: KnownHost }).host;
  }

  async remember(endpoint: string, entry: KnownHost): Promise<KnownHost> {
    const stored = await this.secrets.putIfAbsent(knownHostSecretName(endpoint), JSON.stringify({ endpoint, host: entry }));
    return (JSON.parse(stored) as { host: KnownHost }).host;
  }
}
