/**
 * The contract of kubeha's remote shell: how host activities run commands and move files over SSH.
 * Implemented by the ssh2 transport in this folder; host activities depend on this interface only.
 */
import type { HostSpec } from '../../common/inputs/shared';

/** One command to run on a host. */
export interface RemoteCommand {
  /** A shell command line. Never put a secret here: it shows in `ps` on the host. Use `stdin`. */
  command: string;
  /** Bytes fed to the command's standard input (secrets travel here, not on the command line). */
  stdin?: string;
  /** Run through `sudo -n` when the SSH user is not root. Default true. */
  sudo?: boolean;
  /** Kill the command and fail with CommandTimeout after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** Values to mask as `***` in any output kept in errors or logs. */
  redact?: string[];
  /**
   * The command PRINTS a secret that is not known beforehand, so `redact` cannot name it (a new
   * certificate key, a new bootstrap token). Its standard output is then never streamed to `onOutput`
   * (so never into heartbeats or logs); the result still returns it to the caller.
   */
  secretOutput?: boolean;
  /** A short name for errors and logs, e.g. "kubeadm init". Defaults to the first word. */
  label?: string;
}

/** What a finished command returned. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Options of one call. */
export interface RunOptions {
  /** Cancels the command (the activity's cancellation signal). */
  signal?: AbortSignal;
  /** Called with output as it streams, already redacted (`RemoteCommand.redact`); activities heartbeat from here. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
  /**
   * Called every few seconds while a command runs, output or not, so an activity running a silent
   * command still heartbeats (and so still learns about cancellation).
   */
  onTick?: () => void;
}

/** Runs commands and moves files on hosts. Errors are kubeha failures (see common/errors.ts). */
export interface RemoteShell {
  /** Runs a command and returns its result whatever the exit code. Connection trouble throws. */
  run(host: HostSpec, cmd: RemoteCommand, options?: RunOptions): Promise<CommandResult>;
  /** Runs a command and throws CommandFailed / CommandTransient when it exits non-zero. */
  runChecked(host: HostSpec, cmd: RemoteCommand, options?: RunOptions): Promise<CommandResult>;
  /** Writes a file atomically with the given mode (content travels over stdin or SFTP, never argv). */
  writeFile(host: HostSpec, path: string, content: string, mode: number, options?: RunOptions): Promise<void>;
  /** Reads a file; undefined when it does not exist. */
  readFile(host: HostSpec, path: string, options?: RunOptions): Promise<string | undefined>;
  /** Closes pooled connections (worker shutdown, tests). */
  close(): Promise<void>;
}
