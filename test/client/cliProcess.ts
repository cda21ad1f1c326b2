/**
 * Runs the `kubeha` command as a child process, the way an operator does, against the build the tests
 * come from: bin/kubeha.js when that is the project's own dist/, else the compiled cli.js of this build
 * (which runs itself when started directly).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../lib/paths';

/** The script that starts the CLI of the build under test. */
export function cliEntry(): string {
  const compiled = path.resolve(__dirname, '..', '..', 'client', 'cli.js');
  return compiled === path.join(projectRoot, 'dist', 'client', 'cli.js') ? path.join(projectRoot, 'bin', 'kubeha.js') : compiled;
}

/** How a CLI run ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for a CLI child: the test's, with `extra` on top and colours off. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', ...extra };
}

/** Starts `kubeha ...args`; the caller owns the process. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [cliEntry(), ...args], { cwd: projectRoot, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `kubeha ...args` to the end (killed after `timeoutMs`) and collects its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliRun> {
  const child = spawnCli(args, env);
  return collect(child, timeoutMs);
}

/** Collects a child's output until it exits (killed after `timeoutMs`). */
export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Watches a running child's output from the start: `waitFor` finds a line whether it was printed before
 * or after the call.
 */
export class OutputWatch {
  private seen = '';
  private readonly waiters = new Set<() => void>();
  private exited = false;

  constructor(private readonly child: ChildProcess) {
    const onData = (chunk: Buffer): void => {
      this.seen += chunk.toString('utf8');
      for (const wake of this.waiters) wake();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => {
      this.exited = true;
      for (const wake of this.waiters) wake();
    });
  }

  /** Everything printed so far, stdout and stderr interleaved. */
  get text(): string {
    return this.seen;
  }

  /** Resolves with the first line matching `pattern`; rejects when the child exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = this.seen
          .split('\n')
          .map((line) => line.match(pattern))
          .find(Boolean);
        if (match) finish(undefined, match);
        else if (this.exited) finish(new Error(`exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}; output:\n${this.seen}`));
      };
      const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output so far:\n${this.seen}`)), timeoutMs);
      const finish = (err?: Error, match?: RegExpMatchArray): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve(match!);
      };
      this.waiters.add(check);
      check();
    });
  }
}

/** Whether a process id is alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
