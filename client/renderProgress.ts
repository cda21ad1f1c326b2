/**
 * Renders a workflow's {@link Progress} as terminal lines: a header, one line per step with a state
 * symbol and its reason and message, host lines indented under the steps that are under way, then the
 * facts learned so far. Pure: no I/O, no clock unless one is passed, so it is tested line by line.
 */
import type { HostCondition, Progress, StepCondition, StepState } from '../common/progress';

/** The symbol shown for each state (the same as the Web UI's markdown). */
export const STATE_SYMBOL: Record<StepState, string> = {
  done: '✓',
  running: '▶',
  pending: '…',
  waiting: '⏸',
  failed: '✗',
  skipped: '–',
};

/** ANSI colours per state, used only when {@link RenderOptions.color} is on. */
const STATE_COLOR: Record<StepState, string> = {
  done: '\x1b[32m',
  running: '\x1b[36m',
  pending: '\x1b[2m',
  waiting: '\x1b[33m',
  failed: '\x1b[31m',
  skipped: '\x1b[2m',
};
const RESET = '\x1b[0m';

/** How {@link renderProgress} draws. */
export interface RenderOptions {
  /** Colour the symbols with ANSI escapes. Default false. */
  color?: boolean;
  /**
   * Name the step on each host line (`join-control-plane/cp-2`) instead of relying on indentation.
   * For output that is printed as a stream of changed lines, where the step line may not be repeated.
   * Default false.
   */
  flat?: boolean;
  /** Show the facts section. Default true. */
  facts?: boolean;
}

/** Steps in these states show their hosts: the ones under way, and the failed one (which host broke it). */
const SHOWS_HOSTS: ReadonlySet<StepState> = new Set(['running', 'waiting', 'failed']);

/** Renders a {@link Progress} as lines of text, without trailing newlines. */
export function renderProgress(progress: Progress, options: RenderOptions = {}): string[] {
  const paint = (state: StepState, text: string): string => (options.color ? `${STATE_COLOR[state]}${text}${RESET}` : text);
  const width = Math.max(0, ...progress.steps.map((s) => s.step.length));
  const lines = [`${progress.workflow} ${progress.subject}: ${progress.phase}${progress.currentStep ? ` (step ${progress.currentStep})` : ''}`];
  for (const line of progress.headline ?? []) lines.push(`  ${line}`);
  if (progress.waitingFor) lines.push(`  waiting for: ${progress.waitingFor}`);
  for (const step of progress.steps) {
    lines.push(`  ${paint(step.state, STATE_SYMBOL[step.state])} ${step.step.padEnd(width)}${describeStep(step)}`.trimEnd());
    if (!SHOWS_HOSTS.has(step.state)) continue;
    const hostWidth = Math.max(0, ...step.hosts.map((h) => h.host.length));
    for (const host of step.hosts) {
      const label = options.flat ? `${step.step}/${host.host}` : host.host.padEnd(hostWidth);
      lines.push(`      ${paint(host.state, STATE_SYMBOL[host.state])} ${label}${describeCondition(host)}`.trimEnd());
    }
  }
  const facts = Object.entries(progress.facts);
  if (options.facts !== false && facts.length > 0) {
    lines.push('  facts:');
    for (const [name, value] of facts) lines.push(`    ${name}: ${value}`);
  }
  return lines;
}

/** ` Reason: message`, with the attempt count when a step ran more than once and its duration once it ended. */
function describeStep(step: StepCondition): string {
  let text = describeCondition(step);
  if (step.attempts > 1) text += ` (attempt ${step.attempts})`;
  const took = duration(step.startedAt, step.finishedAt);
  if (took && (step.state === 'done' || step.state === 'failed')) text += ` [${took}]`;
  return text;
}

function describeCondition(c: Pick<HostCondition, 'reason' | 'message'>): string {
  if (c.reason && c.message) return `  ${c.reason}: ${c.message}`;
  if (c.reason || c.message) return `  ${c.reason ?? c.message}`;
  return '';
}

/** A short human duration between two ISO timestamps, or undefined when either is missing or bad. */
export function duration(from?: string, to?: string): string | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The lines of `next` that were not in `previous`, in order: what a non-interactive output prints so a
 * log shows every change once, without repeating the whole list every second.
 */
export function changedLines(previous: readonly string[], next: readonly string[]): string[] {
  const seen = new Set(previous);
  return next.filter((line) => !seen.has(line));
}

/**
 * The escape sequence that moves the cursor up over `lineCount` printed lines and clears from there to
 * the end of the screen, so the next frame is drawn in place.
 */
export function eraseLines(lineCount: number): string {
  return lineCount > 0 ? `\x1b[${lineCount}A\x1b[0J` : '';
}

const ANSI_ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Characters a line shows (escape sequences take no room). */
export function visibleLength(line: string): number {
  return [...line.replace(ANSI_ESCAPE, '')].length;
}

/**
 * Wraps lines longer than `columns` at spaces, continuing under the line's text (its indentation plus
 * two), so a long reason or hint stays readable on an 80-column terminal instead of running into the
 * margin. A word longer than the room is split. Nothing is dropped.
 */
export function fitToWidth(lines: readonly string[], columns: number): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (visibleLength(line) <= columns) {
      out.push(line);
      continue;
    }
    const indent = ' '.repeat(Math.min(Math.floor(columns / 2), (/^ */.exec(line.replace(ANSI_ESCAPE, ''))?.[0].length ?? 0) + 4));
    let current = '';
    for (const word of line.split(/(?<=\S) (?=\S)/)) {
      const candidate = current ? `${current} ${word}` : word;
      if (visibleLength(candidate) <= columns || !current.trim()) {
        current = candidate;
      } else {
        out.push(current);
        current = `${indent}${word}`;
      }
      // A single word wider than the room: split it.
      while (visibleLength(current) > columns) {
        const plain = [...current];
        out.push(plain.slice(0, columns).join(''));
        current = `${indent}${plain.slice(columns).join('')}`;
      }
    }
    if (current.trim()) out.push(current);
  }
  return out;
}
