/**
 * The worker's secret store. Workflow history holds secret *names*; values live here, readable
 * only by the worker's user. The file store is the embedded default; any other store (Vault,
 * AWS Secrets Manager, a Kubernetes Secret) only has to implement {@link SecretStore}.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { SecretRef } from '../../common/inputs/shared';
import type { SecretName } from '../types';

/** Where activities keep and find secrets by name. */
export interface SecretStore {
  put(name: SecretName, value: string): Promise<void>;
  /** Throws a non-retryable SecretMissing failure when there is no such secret. */
  get(name: SecretName): Promise<string>;
  has(name: SecretName): Promise<boolean>;
  delete(name: SecretName): Promise<void>;
  /**
   * Stores `value` unless the secret exists, atomically across workers; returns the value in force
   * (the first writer's). Trust-on-first-use host keys rely on it: two workers never pin two keys.
   */
  putIfAbsent(name: SecretName, value: string): Promise<string>;
}

/** The failure every store throws for a secret it does not hold. */
export function secretMissing(name: SecretName, where: string): Error {
  return kubehaFailure({
    type: ErrorType.SecretMissing,
    message: `secret "${name}" is not in the worker's secret store`,
    retryable: false,
    hint: `the step that creates it has to run first, or the worker uses another secret store (${where})`,
  });
}

const NAME_RULE = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

/** A {@link SecretStore} of files under one directory: 0700 directories, 0600 files, atomic writes. */
export class FileSecretStore implements SecretStore {
  constructor(private readonly root: string) {}

  private fileOf(name: SecretName): string {
    if (!NAME_RULE.test(name)) throw new Error(`secret name "${name}" must be lowercase path segments`);
    return path.join(this.root, ...name.split('/'));
  }

  async put(name: SecretName, value: string): Promise<void> {
    const file = this.fileOf(name);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Write aside and rename, so a crash never leaves half a secret behind.
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, value, { mode: 0o600 });
    await rename(tmp, file);
  }

  async get(name: SecretName): Promise<string> {
    try {
      return await readFile(this.fileOf(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw secretMissing(name, `KUBEHA_DATA_DIR ${this.root}`);
      throw err;
    }
  }

  async has(name: SecretName): Promise<boolean> {
    return stat(this.fileOf(name)).then(
      () => true,
      () => false,
    );
  }

  async delete(name: SecretName): Promise<void> {
    await rm(this.fileOf(name), { force: true });
  }

  async putIfAbsent(name: SecretName, value: string): Promise<string> {
    const file = this.fileOf(name);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, value, { mode: 0o600 });
    try {
      // link() fails when the name exists: the first writer wins, and the file is whole when it appears.
      await link(tmp, file);
      return value;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return this.get(name);
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

/** Reads the secret an input refers to (a file or an environment variable). */
export async function resolveSecretRef(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if ('file' in ref) {
    try {
      return await readFile(ref.file, 'utf8');
    } catch (err) {
      throw kubehaFailure({
        type: ErrorType.SecretMissing,
        message: `cannot read secret file ${ref.file}: ${(err as Error).message}`,
        retryable: false,
        hint: 'the file must exist on the worker host and be readable by the worker user',
      });
    }
  }
  const value = env[ref.env];
  if (value === undefined || value === '') {
    throw kubehaFailure({
      type: ErrorType.SecretMissing,
      message: `environment variable ${ref.env} is not set on the worker`,
      retryable: false,
      hint: `set ${ref.env} in the worker's environment and restart it`,
    });
  }
  return value;
}
