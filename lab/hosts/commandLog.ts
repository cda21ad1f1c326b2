/** Reading a lab host's commands.log: the command lines its sshd received, in order. */
import { readFileSync } from 'node:fs';

/** One command line sshd received. */
export interface LoggedCommand {
  /** ISO time (UTC, milliseconds). */
  at: string;
  /** The command line as received; `(interactive session)` for a shell without a command. */
  command: string;
}

/** Parses commands.log (`[time] first line`, continuation lines indented by four spaces). */
export function parseCommandLog(text: string): LoggedCommand[] {
  const entries: LoggedCommand[] = [];
  for (const line of text.split('\n')) {
    const head = /^\[([^\]]+)\] (.*)$/.exec(line);
    if (head) entries.push({ at: head[1], command: head[2] });
    else if (line.startsWith('    ') && entries.length > 0) entries[entries.length - 1].command += `\n${line.slice(4)}`;
  }
  return entries;
}

/** The commands a host received so far (none when the log does not exist yet). */
export function readCommandLog(file: string): LoggedCommand[] {
  try {
    return parseCommandLog(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}
