/**
 * Command-line parsing in cobra/pflag's manner: `--flag value`, `--flag=value`, repeated flags,
 * boolean flags without a value, short aliases, and cobra's error for an unknown flag.
 */

/** A usage error: kubeadm prints it with `Error: ` and exits 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parsed arguments: positional words and every flag's values in order. */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

/** The flags a command accepts: boolean ones take no value; aliases map short names. */
export interface FlagSpec {
  booleans: readonly string[];
  values: readonly string[];
  aliases?: Readonly<Record<string, string>>;
}

/** Flags every kubeadm command takes. */
const GLOBAL_VALUES = ['v', 'rootfs', 'log-file', 'kubeconfig'];
const GLOBAL_BOOLEANS = ['help', 'skip-headers', 'skip-log-headers', 'add-dir-header'];

/** Parses argv against the spec. */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const booleans = new Set([...spec.booleans, ...GLOBAL_BOOLEANS]);
  const values = new Set([...spec.values, ...GLOBAL_VALUES]);
  const aliases: Record<string, string> = { h: 'help', ...(spec.aliases ?? {}) };
  const result: ParsedArgs = { positional: [], flags: new Map() };
  const add = (name: string, value: string): void => {
    result.flags.set(name, [...(result.flags.get(name) ?? []), value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      result.positional.push(...argv.slice(i + 1));
      break;
    }
    const match = /^(--?)([A-Za-z0-9][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(word);
    if (!match) {
      result.positional.push(word);
      continue;
    }
    const [, dashes, rawName, inline] = match;
    if (dashes === '-' && !aliases[rawName]) throw new UsageError(`unknown shorthand flag: '${rawName[0]}' in ${word}`);
    const name = dashes === '-' ? aliases[rawName] : rawName;
    if (booleans.has(name)) {
      add(name, inline ?? 'true');
    } else if (values.has(name)) {
      if (inline !== undefined) {
        add(name, inline);
      } else {
        const next = argv[i + 1];
        if (next === undefined) throw new UsageError(`flag needs an argument: --${name}`);
        add(name, next);
        i += 1;
      }
    } else {
      throw new UsageError(`unknown flag: --${name}`);
    }
  }
  return result;
}

/** The last value of a flag. */
export function flag(args: ParsedArgs, name: string): string | undefined {
  const values = args.flags.get(name);
  return values?.[values.length - 1];
}

/** Every value of a repeatable flag (comma-separated lists split, as pflag's StringSlice does). */
export function flagList(args: ParsedArgs, name: string): string[] {
  return (args.flags.get(name) ?? []).flatMap((v) => v.split(',')).filter((v) => v !== '');
}

/** Whether a boolean flag is on. */
export function flagSet(args: ParsedArgs, name: string): boolean {
  const value = flag(args, name);
  return value !== undefined && value !== 'false';
}

/**
 * kubeadm refuses most flags next to `--config` ("can not mix '--config' with arguments [...]"):
 * only the listed ones may be combined with a file.
 */
export function rejectMixedWithConfig(args: ParsedArgs, allowed: readonly string[]): void {
  if (!args.flags.has('config')) return;
  const always = new Set(['config', ...GLOBAL_VALUES, ...GLOBAL_BOOLEANS, ...allowed]);
  const mixed = [...args.flags.keys()].filter((name) => !always.has(name) && !name.startsWith('skip-'));
  if (mixed.length > 0) throw new UsageError(`can not mix '--config' with arguments [${mixed.sort().join(' ')}]`);
}

/**
 * A Go duration (`24h0m0s`, `90m`, `1.5h`, `500ms`, `0`) in milliseconds, as metav1.Duration and
 * pflag's Duration parse it.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  const negative = trimmed.startsWith('-');
  const body = negative ? trimmed.slice(1) : trimmed;
  for (let m = pattern.exec(body); m; m = pattern.exec(body)) {
    total += Number(m[1]) * units[m[2]];
    consumed = pattern.lastIndex;
  }
  if (consumed === 0 || consumed !== body.length) throw new UsageError(`time: invalid duration "${text}"`);
  return negative ? -total : total;
}

/** Milliseconds as a Go duration string (`24h0m0s`, `2h0m0s`, `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
