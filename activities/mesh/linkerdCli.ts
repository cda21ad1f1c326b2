/**
 * Drives the real linkerd CLI: one process per call, with the cluster's cut kubeconfig and any
 * identity material written to 0600 files in a private 0700 temp directory that is removed afterwards,
 * so that keys never appear on a command line, in the environment or in logs. Heartbeats while the CLI
 * runs and kills it when the activity is cancelled.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { which } from '../../lib/paths';
import { cancellationSignal, heartbeat } from '../activityContext';
import type { SecretStore } from '../secrets/store';

/** The edge release kubeha is tested with; lab/build/build-linkerd.sh builds it into the cache. */
export const DEFAULT_LINKERD_VERSION = 'edge-25.11.3';

/** Where lab/build/build-linkerd.sh puts the CLI of `version`. */
export function cachedLinkerdPath(version = DEFAULT_LINKERD_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  const root = env.KUBEHA_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'kubeha');
  return path.join(root, 'linkerd', version, 'bin', 'linkerd');
}

/** The linkerd CLI to run: $LINKERD_PATH, else the build cache, else `linkerd` on PATH; undefined if none. */
export function findLinkerd(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.LINKERD_PATH) return path.resolve(env.LINKERD_PATH);
  const cached = cachedLinkerdPath(env.LINKERD_VERSION ?? DEFAULT_LINKERD_VERSION, env);
  if (existsSync(cached)) return cached;
  return which('linkerd', env);
}

/** What one CLI run printed. */
export interface CliOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Options of one run. */
export interface CliRun {
  /** Secret name of the kubeconfig to pass with `--kubeconfig` (and its context with `--context`). */
  kubeconfigSecret?: string;
  context?: string;
  /** Files the arguments refer to as `{file:<name>}`, written 0600 and removed after the run. */
  files?: Record<string, string>;
  /** Exit codes other than 0 that are results, not failures (`linkerd check` exits 1 when unhealthy). */
  acceptExitCodes?: number[];
  /** What the run is for, in messages: `linkerd install on west`. */
  what: string;
  timeoutMs?: number;
}

/** Runs the linkerd CLI. */
export class LinkerdCli {
  constructor(
    private readonly secrets: SecretStore,
    /** The binary; default: found by findLinkerd() at each run, so a LINKERD_PATH set after start counts. */
    private readonly binary?: string,
    private readonly defaultTimeoutMs = 300_000,
  ) {}

  /** The binary, or a failure that says how to get one. */
  private requireBinary(): string {
    const binary = this.binary ?? findLinkerd();
    if (binary && existsSync(binary)) return binary;
    throw kubehaFailure({
      type: ErrorType.CommandFailed,
      message: `the linkerd CLI is not installed on the worker${binary ? ` (${binary} is missing)` : ''}`,
      retryable: false,
      hint: 'run lab/build/build-linkerd.sh (go install from the Go module proxy), put linkerd on PATH, or set LINKERD_PATH',
    });
  }

  /** Runs `linkerd <args>`; `{file:name}` in args becomes the path of that temp file. */
  async run(args: string[], options: CliRun): Promise<CliOutput> {
    const binary = this.requireBinary();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-linkerd-'));
    try {
      await chmod(dir, 0o700);
      const paths: Record<string, string> = {};
      for (const [name, content] of Object.entries(options.files ?? {})) {
        if (!/^[a-z0-9.-]+$/.test(name)) throw new Error(`bad temp file name ${name}`);
        paths[name] = path.join(dir, name);
        await writeFile(paths[name], content, { mode: 0o600 });
      }
      const full: string[] = [];
      if (options.kubeconfigSecret) {
        const kubeconfig = path.join(dir, 'kubeconfig');
        await writeFile(kubeconfig, await this.secrets.get(options.kubeconfigSecret), { mode: 0o600 });
        full.push('--kubeconfig', kubeconfig);
      }
      if (options.context) full.push('--context', options.context);
      for (const arg of args) full.push(arg.replace(/\{file:([a-z0-9.-]+)\}/g, (_, name: string) => paths[name] ?? `{missing file ${name}}`));
      const result = await this.spawn(binary, full, options, dir);
      if (result.exitCode !== 0 && !(options.acceptExitCodes ?? []).includes(result.exitCode)) throw cliFailure(options.what, args, result);
      return result;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private spawn(binary: string, args: string[], options: CliRun, cwd: string): Promise<CliOutput> {
    const signal = cancellationSignal();
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      // A clean environment: no KUBECONFIG of the worker leaks in; HOME for the CLI's own cache.
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, LINKERD_DOCKER_REGISTRY: process.env.LINKERD_DOCKER_REGISTRY ?? '' };
      const child = spawn(binary, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      const beat = setInterval(() => heartbeat({ running: options.what }), 5000);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const onAbort = () => child.kill('SIGKILL');
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearInterval(beat);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      child.on('error', (e) => {
        done();
        reject(
          kubehaFailure({
            type: ErrorType.CommandFailed,
            message: `${options.what}: cannot run ${binary}: ${e.message}`,
            retryable: false,
            hint: 'check the linkerd binary (LINKERD_PATH)',
          }),
        );
      });
      child.on('close', (code) => {
        done();
        if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
        if (timedOut) {
          return reject(
            kubehaFailure({
              type: ErrorType.CommandTimeout,
              message: `${options.what}: linkerd ran past ${Math.round(timeoutMs / 1000)} s`,
              retryable: true,
              hint: 'the API server may be slow or unreachable from the worker',
            }),
          );
        }
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode: code ?? -1 });
      });
    });
  }

  /** `linkerd version --client --short`, e.g. `edge-25.11.3`. */
  async clientVersion(): Promise<string> {
    const { stdout } = await this.run(['version', '--client', '--short'], { what: 'linkerd version --client' });
    return stdout.trim().split('\n').pop()?.trim() ?? '';
  }
}

/** Messages keep only stderr's tail: stdout may hold rendered secrets (issuer keys, link credentials). */
function cliFailure(what: string, args: string[], result: CliOutput): Error {
  const tail = result.stderr.trim().split('\n').slice(-6).join(' | ').slice(0, 800);
  const transient = /connection refused|i\/o timeout|no such host|TLS handshake timeout|EOF|ServiceUnavailable|the server is currently unable/i.test(
    result.stderr,
  );
  return kubehaFailure({
    type: transient ? ErrorType.Unreachable : ErrorType.CommandFailed,
    message: `${what}: linkerd ${args[0] ?? ''} exited ${result.exitCode}: ${tail || 'no error output'}`,
    retryable: transient,
    hint: transient
      ? 'the CLI could not reach the API server; a retry usually helps once it answers'
      : 'read the CLI error above; it names the flag or object it refuses',
    details: {
      exitCode: result.exitCode,
      command: `linkerd ${args
        .filter((a) => !a.startsWith('{file:'))
        .slice(0, 4)
        .join(' ')}`,
    },
  });
}

export { parseLinkerdVersion, prefersHttpRoute, supportsLinkGen, type LinkerdVersion } from '../../common/inputs/linkMeshClusters';
