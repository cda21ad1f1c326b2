/**
 * The failures the SSH transport raises, in kubeha's error model (common/errors.ts), and how a
 * non-zero exit is classified as permanent or transient.
 */
import type { ApplicationFailure } from '@temporalio/common';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { lastLines, redact } from './output';

/** How many stderr lines a failure keeps. */
export const STDERR_TAIL_LINES = 20;

/**
 * Output of a failed command that says "try again in a moment". Kept short on purpose: each one
 * is a condition that clears by itself within seconds, so a retry of the whole command is right.
 */
export const TRANSIENT_PATTERNS: readonly { pattern: RegExp; reason: string }[] = [
  {
    pattern: /Could not get lock \/var\/lib\/(dpkg|apt)|dpkg frontend lock|Unable to acquire the dpkg frontend lock/i,
    reason: 'another apt/dpkg run holds the package lock',
  },
  { pattern: /etcdserver: leader changed/, reason: 'etcd was electing a leader' },
  { pattern: /etcdserver: request timed out/, reason: 'etcd did not answer in time' },
  {
    pattern: /(127\.0\.0\.1|localhost|\[::1\]):(6443|2379)\b[^\n]*connection refused|connection refused[^\n]*(127\.0\.0\.1|localhost|\[::1\]):(6443|2379)\b/i,
    reason: 'the local API server or etcd was not listening yet',
  },
  { pattern: /TLS handshake timeout/, reason: 'a TLS handshake timed out' },
];

/** The transient reason an output matches, if any. */
export function transientReason(output: string): string | undefined {
  return TRANSIENT_PATTERNS.find(({ pattern }) => pattern.test(output))?.reason;
}

/** `host (address:port)`, the way every message names a host. */
export function describeHost(host: HostSpec): string {
  return `${host.name} (${host.ssh.user}@${host.address}:${host.ssh.port})`;
}

/** What a failed command leaves in a failure: no secrets, a bounded amount of text. */
export interface CommandFailureInput {
  host: HostSpec;
  label: string;
  exitCode: number;
  /** Only searched for transient patterns; never copied into the failure. */
  stdout: string;
  stderr: string;
  redactValues: readonly string[];
}

/** CommandTransient when the output matches a known transient pattern, CommandFailed otherwise. */
export function commandFailure(input: CommandFailureInput): ApplicationFailure {
  // Only stderr is kept: stdout is where commands print what callers asked for (tokens, keys).
  const stderrTail = redact(lastLines(input.stderr, STDERR_TAIL_LINES), input.redactValues);
  const lastLine = lastLines(stderrTail, 1);
  const reason = transientReason(`${input.stderr}\n${input.stdout}`);
  const details = { host: input.host.name, command: input.label, exitCode: input.exitCode, stderrTail };
  const summary = `"${input.label}" on ${describeHost(input.host)} exited with ${input.exitCode}${lastLine ? `: ${lastLine}` : ''}`;
  if (reason) {
    return kubehaFailure({
      type: ErrorType.CommandTransient,
      message: summary,
      retryable: true,
      hint: `transient: ${reason}; a retry usually succeeds`,
      details: { ...details, transientReason: reason },
    });
  }
  return kubehaFailure({
    type: ErrorType.CommandFailed,
    message: summary,
    retryable: false,
    hint: `read stderrTail; run the command by hand on ${input.host.name} to see the whole output`,
    details,
  });
}

/** The connection could not be made or was lost: retryable. */
export function unreachable(host: HostSpec, what: string, cause?: Error): ApplicationFailure {
  return kubehaFailure({
    type: ErrorType.Unreachable,
    message: `${what}: ${describeHost(host)}${cause ? `: ${cause.message}` : ''}`,
    retryable: true,
    hint: `check that ${host.name} is up, that sshd listens on ${host.address}:${host.ssh.port}, and that no firewall blocks the worker`,
    details: { host: host.name, address: host.address, port: host.ssh.port },
    cause,
  });
}

/** The host refused our key: not retryable. */
export function authenticationFailed(host: HostSpec, reason: string): ApplicationFailure {
  return kubehaFailure({
    type: ErrorType.AuthenticationFailed,
    message: `SSH authentication as ${host.ssh.user} failed on ${describeHost(host)}: ${reason}`,
    retryable: false,
    hint:
      `the public half of hosts[].ssh.privateKey must be in ~${host.ssh.user}/.ssh/authorized_keys on ${host.name}; ` +
      'check the user name and that the key is an unencrypted OpenSSH or PEM key',
    details: { host: host.name, user: host.ssh.user },
  });
}

/** The host showed another key than the pinned or first-seen one: not retryable. */
export function hostKeyMismatch(host: HostSpec, expected: string, seen: string, keyType: string, source: 'pinned' | 'known_hosts'): ApplicationFailure {
  const where =
    source === 'pinned'
      ? 'if the host was rebuilt on purpose, update hosts[].ssh.hostKeyFingerprint'
      : `if the host was rebuilt on purpose, remove its entry [${host.address}]:${host.ssh.port} from known_hosts.json in the worker's data directory`;
  return kubehaFailure({
    type: ErrorType.HostKeyMismatch,
    message: `host key of ${describeHost(host)} does not match: expected ${expected}, seen ${seen} (${keyType})`,
    retryable: false,
    hint:
      `nothing was run. Someone may be intercepting the connection, or the host was reinstalled or changed address. ` +
      `On the host's console, run \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` and compare; ${where}`,
    details: { host: host.name, expectedFingerprint: expected, seenFingerprint: seen, keyType, source },
  });
}

/** The command ran past its timeout and was stopped: retryable. */
export function commandTimeout(host: HostSpec, label: string, timeoutMs: number, stderr: string, redactValues: readonly string[]): ApplicationFailure {
  return kubehaFailure({
    type: ErrorType.CommandTimeout,
    message: `"${label}" on ${describeHost(host)} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`,
    retryable: true,
    hint: `the command may be waiting on something (a lock, the network, a prompt); look at stderrTail and at ${host.name}`,
    details: { host: host.name, command: label, timeoutMs, stderrTail: redact(lastLines(stderr, STDERR_TAIL_LINES), redactValues) },
  });
}
