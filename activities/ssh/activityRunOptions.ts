/**
 * Ties remote commands to the running Temporal activity: its cancellation stops the command, and
 * output (or, for silent commands, time) turns into heartbeats.
 */
import { Context } from '@temporalio/activity';
import { heartbeatOn } from '../activityContext';
import { redact } from './output';
import type { RunOptions } from './types';

/** What an activity heartbeats while a remote command runs. */
export interface CommandHeartbeat {
  /** The last non-empty output line, redacted and cut to 200 characters. */
  lastOutput: string;
}

/** Options of {@link activityRunOptions}. */
export interface ActivityRunSettings {
  /** At most one heartbeat per this many milliseconds. Default 2000. */
  heartbeatEveryMs?: number;
  /** More values to mask in heartbeats, besides the command's own `redact`. */
  redact?: string[];
}

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    // Not inside an activity (a plain test or a CLI): nothing to heartbeat to.
    return undefined;
  }
}

/** {@link RunOptions} bound to the current activity; `{}` outside an activity. */
export function activityRunOptions(settings: ActivityRunSettings = {}): RunOptions {
  const context = currentContext();
  if (!context) return {};
  const every = settings.heartbeatEveryMs ?? 2000;
  let lastOutput = '';
  let lastBeat = 0;
  const beat = () => {
    const now = Date.now();
    if (now - lastBeat < every) return;
    lastBeat = now;
    const details: CommandHeartbeat = { lastOutput };
    heartbeatOn(context, details);
  };
  return {
    signal: context.cancellationSignal,
    onOutput: (_stream, chunk) => {
      const lines = chunk
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.length > 0);
      const last = lines[lines.length - 1];
      if (last !== undefined) lastOutput = redact(last, settings.redact).slice(0, 200);
      beat();
    },
    onTick: beat,
  };
}
