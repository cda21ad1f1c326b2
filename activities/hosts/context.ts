/**
 * What every host activity shares: its injected dependencies, the names of the secrets it keeps,
 * the paths it uses on hosts, and the way it runs commands and reports failures.
 */
import type { ApplicationFailure } from '@temporalio/common';
import { ErrorType, type ErrorTypeName, kubehaFailure } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import type { SecretStore } from '../secrets/store';
import type { CommandResult, RemoteCommand, RemoteShell, RunOptions } from '../ssh/types';
import type { SecretName } from '../types';

/** The clients the host activities use. */
export interface HostActivityDeps {
  shell: RemoteShell;
  secrets: SecretStore;
  /** The clock expiry times are computed from. Default: the system clock. */
  now?: () => Date;
  /** Heartbeat and cancellation from the activity context. Default: none (plain tests). */
  runOptions?: () => RunOptions;
}

/** Paths kubeha uses on hosts. */
export const REMOTE = {
  adminConf: '/etc/kubernetes/admin.conf',
  kubeletConf: '/etc/kubernetes/kubelet.conf',
  caCert: '/etc/kubernetes/pki/ca.crt',
  manifests: '/etc/kubernetes/manifests',
  etcdData: '/var/lib/etcd',
  /** kubeha's kubeadm config files (0700 directory, 0600 files; removed after use). */
  configDir: '/etc/kubernetes/kubeha',
  initConfig: '/etc/kubernetes/kubeha/init.yaml',
  joinConfig: '/etc/kubernetes/kubeha/join.yaml',
  uploadCertsConfig: '/etc/kubernetes/kubeha/upload-certs.yaml',
} as const;

/** How long kubeadm's credentials live (kubeadm defaults). */
export const TOKEN_TTL_MS = 24 * 3600_000;
export const UPLOADED_CERTS_TTL_MS = 2 * 3600_000;

/** The secret names of one cluster. */
export function secretNames(clusterName: string): { token: SecretName; certificateKey: SecretName; kubeconfig: SecretName } {
  return {
    token: `clusters/${clusterName}/bootstrap-token`,
    certificateKey: `clusters/${clusterName}/certificate-key`,
    kubeconfig: `clusters/${clusterName}/admin-kubeconfig`,
  };
}

/** Quotes a string as one POSIX shell word. */
export function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `kubectl` against the cluster with the host's admin kubeconfig. */
export function kubectl(args: string): string {
  return `kubectl --kubeconfig ${REMOTE.adminConf} --request-timeout=20s ${args}`;
}

/** The first non-blank line of a command's output, trimmed to 200 characters (for one-line reasons). */
export function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 200);
}

/** Replaces secrets with `***` (for text kubeha keeps in errors). */
export function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets.filter((v) => v.length > 0)) out = out.split(s).join('***');
  return out;
}

/** The last lines of a command's output, masked, for an error's details. */
export function outputTail(result: CommandResult, secrets: readonly string[], lines = 20): string {
  const text = `${result.stdout}\n${result.stderr}`
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return mask(text.slice(-lines).join('\n'), secrets);
}

/** Builds a failure that names the host, with the masked output tail in its details. */
export function hostFailure(options: {
  type: ErrorTypeName;
  host: HostSpec;
  message: string;
  retryable: boolean;
  hint: string;
  result?: CommandResult;
  secrets?: readonly string[];
  details?: Record<string, unknown>;
  cause?: Error;
}): ApplicationFailure {
  const secrets = options.secrets ?? [];
  return kubehaFailure({
    type: options.type,
    message: mask(`${options.host.name}: ${options.message}`, secrets),
    retryable: options.retryable,
    hint: options.hint,
    cause: options.cause,
    details: {
      host: options.host.name,
      ...(options.result ? { exitCode: options.result.exitCode, output: outputTail(options.result, secrets) } : {}),
      ...(options.details ?? {}),
    },
  });
}

/** Runs commands on hosts with the activity's run options, and the clock. */
export class HostRunner {
  readonly shell: RemoteShell;
  readonly secrets: SecretStore;
  readonly now: () => Date;
  private readonly runOptions: () => RunOptions;

  constructor(deps: HostActivityDeps) {
    this.shell = deps.shell;
    this.secrets = deps.secrets;
    this.now = deps.now ?? (() => new Date());
    this.runOptions = deps.runOptions ?? (() => ({}));
  }

  /** Runs a command; returns the result whatever the exit code. */
  run(host: HostSpec, cmd: RemoteCommand): Promise<CommandResult> {
    return this.shell.run(host, cmd, this.runOptions());
  }

  /** Runs a command that must succeed; a non-zero exit becomes a failure of `type` (default CommandFailed). */
  async check(host: HostSpec, cmd: RemoteCommand, hint: string, type: ErrorTypeName = ErrorType.CommandFailed): Promise<CommandResult> {
    const result = await this.run(host, cmd);
    if (result.exitCode !== 0) {
      const label = cmd.label ?? cmd.command.split(' ')[0];
      throw hostFailure({
        type,
        host,
        message: `${label} exited ${result.exitCode}`,
        retryable: type !== ErrorType.CommandFailed,
        hint,
        // What a secret-printing command wrote stays out of the failure (history, logs).
        result: cmd.secretOutput ? { ...result, stdout: '' } : result,
        secrets: cmd.redact,
      });
    }
    return result;
  }

  writeFile(host: HostSpec, path: string, content: string, mode: number): Promise<void> {
    return this.shell.writeFile(host, path, content, mode, this.runOptions());
  }

  readFile(host: HostSpec, path: string): Promise<string | undefined> {
    return this.shell.readFile(host, path, this.runOptions());
  }

  /** Writes a kubeadm config file holding secrets: 0700 directory, 0600 file. */
  async writeSecretConfig(host: HostSpec, path: string, content: string): Promise<void> {
    await this.check(
      host,
      { command: `mkdir -p ${REMOTE.configDir} && chmod 0700 ${REMOTE.configDir}`, label: 'mkdir kubeha config dir' },
      'kubeha needs root (or sudo) on the host',
    );
    await this.writeFile(host, path, content, 0o600);
  }

  /** Removes a config file; never fails the activity (the file is 0600 and overwritten next time). */
  async removeFile(host: HostSpec, path: string): Promise<void> {
    await this.run(host, { command: `rm -f ${shellWord(path)}`, label: 'rm kubeadm config' }).catch(() => undefined);
  }

  /** Whether a path exists on the host. */
  async exists(host: HostSpec, path: string, test: '-e' | '-f' | '-s' = '-e'): Promise<boolean> {
    const result = await this.run(host, { command: `test ${test} ${shellWord(path)}`, label: 'test' });
    return result.exitCode === 0;
  }
}
