/**
 * Lab `dpkg-query`: `-W [-f=FORMAT | --showformat=FORMAT] package...` and `-s package...` over
 * the host's packages.json. Fields: Package, binary:Package, Version, Status, db:Status-Abbrev,
 * Architecture. A package dpkg has never seen: "no packages found matching X", exit 1.
 */
import { readPackages } from './packages';

const DEFAULT_FORMAT = '${binary:Package}\t${Version}\n';

interface Record_ {
  name: string;
  version: string;
  status: string;
  abbrev: string;
}

function expand(format: string, p: Record_): string {
  const fields: Record<string, string> = {
    Package: p.name,
    'binary:Package': p.name,
    Version: p.version,
    Status: p.status,
    'db:Status-Abbrev': p.abbrev,
    'db:Status-Want': p.status.split(' ')[0],
    'db:Status-Status': p.status.split(' ')[2],
    Architecture: 'amd64',
  };
  return format
    .replace(/\$\{([^};]+)(?:;(-?\d+))?\}/g, (_all, name: string, width?: string) => {
      const value = fields[name] ?? '';
      if (!width) return value;
      const n = Number(width);
      return n < 0 ? value.padEnd(-n) : value.padStart(n);
    })
    .replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

function lookup(name: string): Record_ | undefined {
  const state = readPackages();
  const version = state.installed[name];
  const held = state.held.includes(name);
  if (version !== undefined) return { name, version, status: `${held ? 'hold' : 'install'} ok installed`, abbrev: held ? 'hi ' : 'ii ' };
  // A hold on a package that is not installed is still a dpkg selection.
  if (held) return { name, version: '', status: 'hold ok not-installed', abbrev: 'hn ' };
  return undefined;
}

function main(argv: string[]): number {
  let mode: 'show' | 'status' | undefined;
  let format = DEFAULT_FORMAT;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-W' || arg === '--show') mode = 'show';
    else if (arg === '-s' || arg === '--status') mode = 'status';
    else if (arg.startsWith('-f=') || arg.startsWith('--showformat=')) format = arg.slice(arg.indexOf('=') + 1);
    else if (arg === '-f' || arg === '--showformat') format = argv[++i] ?? '';
    else if (arg.startsWith('-f')) format = arg.slice(2);
    else if (arg.startsWith('-')) {
      process.stderr.write(`dpkg-query: error: unknown option ${arg}\n`);
      return 2;
    } else names.push(arg);
  }
  if (!mode) {
    process.stderr.write('dpkg-query: error: need an action option\n');
    return 2;
  }
  let code = 0;
  if (mode === 'show' && names.length === 0) {
    const state = readPackages();
    for (const name of Object.keys(state.installed).sort()) process.stdout.write(expand(format, lookup(name) as Record_));
    return 0;
  }
  for (const name of names) {
    const found = lookup(name);
    if (!found) {
      process.stderr.write(
        mode === 'show'
          ? `dpkg-query: no packages found matching ${name}\n`
          : `dpkg-query: package '${name}' is not installed and no information is available\n`,
      );
      code = 1;
      continue;
    }
    if (mode === 'show') process.stdout.write(expand(format, found));
    else process.stdout.write(`Package: ${found.name}\nStatus: ${found.status}\nArchitecture: amd64\n${found.version ? `Version: ${found.version}\n` : ''}\n`);
  }
  return code;
}

process.exitCode = main(process.argv.slice(2));
