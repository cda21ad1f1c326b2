/** The command line of the apt tools: options (`-y`, `-q`, `-o Name=value`, `--allow-...`) and words. */

/** Parsed apt arguments. */
export interface AptArgs {
  words: string[];
  flags: Set<string>;
  /** `-o Name=value` settings (accepted; the lab has no lock to wait for). */
  settings: Record<string, string>;
}

const SHORT: Record<string, string> = { y: 'yes', q: 'quiet', s: 'simulate', f: 'fix-broken' };

export function parseAptArgs(argv: string[]): AptArgs {
  const parsed: AptArgs = { words: [], flags: new Set(), settings: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-o' || arg === '--option') {
      const [name, value = ''] = (argv[++i] ?? '').split('=');
      parsed.settings[name] = value;
    } else if (arg.startsWith('-o') && !arg.startsWith('--')) {
      const [name, value = ''] = arg.slice(2).split('=');
      parsed.settings[name] = value;
    } else if (arg.startsWith('--')) {
      const flag = arg.slice(2).split('=')[0];
      parsed.flags.add(flag === 'assume-yes' ? 'yes' : flag === 'dry-run' ? 'simulate' : flag);
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (const letter of arg.slice(1)) parsed.flags.add(SHORT[letter] ?? letter);
    } else parsed.words.push(arg);
  }
  return parsed;
}
