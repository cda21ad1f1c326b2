/**
 * Helpers for one command's SSH channel: its name in logs, whether it goes through sudo, how an
 * exit by signal maps to a shell's exit code, cancellation, and opening an exec channel that records
 * its exit status from the first moment.
 */
import { constants as osConstants } from 'node:os';
import { CancelledFailure } from '@temporalio/common';
import type { Client, ClientChannel } from 'ssh2';
import type { HostSpec } from '../../common/inputs/shared';
import type { RemoteCommand } from './types';

/**
 * The short name of a command in errors and logs: its label, else its first word after any
 * leading `NAME=value` assignments (which may hold secrets).
 */
export function commandLabel(cmd: RemoteCommand): string {
  if (cmd.label) return cmd.label;
  const words = cmd.command.trim().split(/\s+/);
  const first = words.find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
  return first ? first.slice(0, 60) : '(command)';
}

/** Whether a command goes through sudo on this host. */
export function usesSudo(host: HostSpec, cmd: Pick<RemoteCommand, 'sudo'>): boolean {
  return host.ssh.user !== 'root' && cmd.sudo !== false;
}

/** A shell's exit code for a process ended by a signal (128 + its number). */
export function exitCodeOfSignal(name: string | undefined): number {
  const number = name ? (osConstants.signals as Record<string, number | undefined>)[`SIG${name}`] : undefined;
  return number ? 128 + number : 255;
}

/** The error a cancelled command ends with: the signal's reason, else a CancelledFailure. */
export function cancellation(signal: AbortSignal, what: string): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure(`${what} was cancelled`);
}

/** The exit status a channel reported, recorded from the moment it opened. */
export const exitStatus = new WeakMap<ClientChannel, { code: number | null; signalName?: string }>();

/** Opens an exec channel for `command`. */
export function openExec(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (err, channel) => {
        if (err) return reject(err);
        // Listen at once: a command that ends immediately can report its exit status in the same
        // read as the channel's opening, before the caller's listeners exist.
        channel.on('exit', (code: number | null, signalName?: string) => exitStatus.set(channel, { code, signalName }));
        resolve(channel);
      });
    } catch (err) {
      reject(err as Error);
    }
  });
}
