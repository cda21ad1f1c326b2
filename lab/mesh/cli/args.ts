/**
 * Command lines as the linkerd CLI (cobra/pflag) reads them: `--flag value`, `--flag=value`, `-o json`,
 * repeatable `--set`, global flags anywhere on the line, and cobra's errors for unknown commands and flags.
 */

/** A usage error: cobra prints `Error: <message>` and exits 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The flags one command accepts: which take a value, which are switches; short aliases. */
export interface FlagSpec {
  values: string[];
  switches: string[];
  short?: Record<string, string>;
}

/** Flags every linkerd command takes (cobra's persistent flags of the root command). */
export const GLOBAL_FLAGS: FlagSpec = {
  values: ['kubeconfig', 'context', 'linkerd-namespace', 'api-addr', 'as', 'as-group', 'cni-namespace'],
  switches: ['verbose'],
  short: { L: 'linkerd-namespace' },
};

/** A parsed command line: the command words and every flag's values, in order. */
export interface ParsedArgs {
  words: string[];
  flags: Map<string, string[]>;
}

/** Splits argv into command words and raw flags (validated later against the command's spec). */
export function splitArgs(argv: string[]): Array<{ word: string } | { flag: string; value?: string; short: boolean }> {
  const out: Array<{ word: string } | { flag: string; value?: string; short: boolean }> = [];
  for (const arg of argv) {
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      out.push(eq > 0 ? { flag: arg.slice(2, eq), value: arg.slice(eq + 1), short: false } : { flag: arg.slice(2), short: false });
    } else if (arg.startsWith('-') && arg.length > 1 && arg !== '-') {
      const eq = arg.indexOf('=');
      out.push(eq > 0 ? { flag: arg.slice(1, eq), value: arg.slice(eq + 1), short: true } : { flag: arg.slice(1), short: true });
    } else {
      out.push({ word: arg });
    }
  }
  return out;
}

/**
 * Parses argv for the command whose words are `commandWords` (already recognised) with `spec` plus the
 * global flags. Values follow their flag (`--set a=b`) or are joined with `=`.
 */
export function parseFlags(argv: string[], spec: FlagSpec): ParsedArgs {
  const values = new Set([...spec.values, ...GLOBAL_FLAGS.values]);
  const switches = new Set([...spec.switches, ...GLOBAL_FLAGS.switches]);
  const short = { ...GLOBAL_FLAGS.short, ...spec.short };
  const flags = new Map<string, string[]>();
  const words: string[] = [];
  const parts = splitArgs(argv);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if ('word' in part) {
      words.push(part.word);
      continue;
    }
    const name = part.short ? short[part.flag] : part.flag;
    if (!name || (!values.has(name) && !switches.has(name))) {
      throw new UsageError(part.short ? `unknown shorthand flag: '${part.flag}' in -${part.flag}` : `unknown flag: --${part.flag}`);
    }
    let value = part.value;
    if (value === undefined) {
      if (switches.has(name)) value = 'true';
      else {
        const next = parts[i + 1];
        if (!next || !('word' in next)) throw new UsageError(`flag needs an argument: --${name}`);
        value = next.word;
        i++;
      }
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { words, flags };
}

/** The last value of a flag (pflag keeps the last of repeated scalar flags). */
export function flag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.at(-1);
}

/** Whether a switch is on (`--crds`, `--crds=true`). */
export function isOn(args: ParsedArgs, name: string): boolean {
  const value = flag(args, name);
  return value !== undefined && value !== 'false';
}

/** Every value of a repeatable flag (`--set`). */
export function all(args: ParsedArgs, name: string): string[] {
  return args.flags.get(name) ?? [];
}

/** A Go duration (`30s`, `5m`, `1m30s`, `0`) in milliseconds. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new UsageError(`invalid argument "${text}": time: invalid duration "${text}"`);
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}
