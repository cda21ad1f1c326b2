/**
 * Lab `sysctl` (procps-ng 4 behaviour): `sysctl [-n] [-e] [-q] key...`, `sysctl [-w] key=value...`,
 * `sysctl -p [file...]`, `sysctl --system`. Values set on a lab host are the host's own
 * (`sysctl.json`); unset keys read the machine's /proc/sys, except those a fresh host has
 * differently: forwarding is off, and the bridge netfilter keys exist only with br_netfilter loaded.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readState, updateState } from './labState';
import { loadedModules } from './modules';
import { EMPTY, exists, NoSuchKey, normalize, procPath, read, type SysctlState } from './sysctlValues';

interface Flags {
  valuesOnly: boolean;
  ignoreUnknown: boolean;
  quiet: boolean;
}

function statError(key: string): string {
  return `sysctl: cannot stat ${procPath(key)}: No such file or directory`;
}

/** Sets `key = value`; returns false (after printing the error) when the key does not exist. */
function write(key: string, value: string, flags: Flags, ignoreThisError = false): boolean {
  const modules = loadedModules();
  if (!exists(key, modules)) {
    if (!flags.ignoreUnknown && !ignoreThisError) process.stderr.write(`${statError(key)}\n`);
    return flags.ignoreUnknown || ignoreThisError;
  }
  const clean = value.trim().replace(/\s+/g, ' ');
  updateState<SysctlState>('sysctl', EMPTY, (state) => {
    state.values[key] = clean;
  });
  if (!flags.quiet) process.stdout.write(flags.valuesOnly ? `${clean}\n` : `${key} = ${clean}\n`);
  return true;
}

/** Applies one settings file; false when a setting failed. */
function applyFile(file: string, flags: Flags): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    process.stderr.write(`sysctl: cannot open "${file}": No such file or directory\n`);
    return false;
  }
  let ok = true;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) {
      process.stderr.write(`sysctl: ${file}: line has no "=": ${line}\n`);
      ok = false;
      continue;
    }
    // A leading "-" means: ignore the error if the key does not exist.
    const optional = line.startsWith('-');
    const key = normalize(line.slice(optional ? 1 : 0, eq).trim());
    ok = write(key, line.slice(eq + 1), flags, optional) && ok;
  }
  return ok;
}

const SYSTEM_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];

/** `--system`: every *.conf by file name (the first directory wins a name), then /etc/sysctl.conf. */
function applySystem(flags: Flags): boolean {
  const byName = new Map<string, string>();
  for (const dir of SYSTEM_DIRS) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith('.conf'));
    } catch {
      continue;
    }
    for (const name of names) if (!byName.has(name)) byName.set(name, path.join(dir, name));
  }
  const files = [...byName.keys()].sort().map((name) => byName.get(name) as string);
  if (existsSync('/etc/sysctl.conf')) files.push('/etc/sysctl.conf');
  let ok = true;
  for (const file of files) {
    if (!flags.quiet) process.stdout.write(`* Applying ${file} ...\n`);
    ok = applyFile(file, flags) && ok;
  }
  return ok;
}

function main(argv: string[]): number {
  const flags: Flags = { valuesOnly: false, ignoreUnknown: false, quiet: false };
  let writeMode = false;
  let loadFiles: string[] | undefined;
  let system = false;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-n' || arg === '--values') flags.valuesOnly = true;
    else if (arg === '-e' || arg === '--ignore') flags.ignoreUnknown = true;
    else if (arg === '-q' || arg === '--quiet') flags.quiet = true;
    else if (arg === '-w' || arg === '--write') writeMode = true;
    else if (arg === '--system') system = true;
    else if (arg === '-p' || arg === '--load') loadFiles = [];
    else if (arg.startsWith('--load=')) loadFiles = [arg.slice('--load='.length)];
    else if (/^-[neqwp]+$/.test(arg)) {
      for (const letter of arg.slice(1)) argv.splice(i + 1, 0, `-${letter}`);
    } else if (arg.startsWith('-')) {
      process.stderr.write(`sysctl: invalid option -- '${arg.replace(/^-+/, '')}'\n`);
      return 1;
    } else if (loadFiles !== undefined && args.length === 0 && !arg.includes('=')) loadFiles.push(arg);
    else args.push(arg);
  }
  if (system) return applySystem(flags) ? 0 : 1;
  if (loadFiles !== undefined) {
    let ok = true;
    for (const file of loadFiles.length ? loadFiles : ['/etc/sysctl.conf']) ok = applyFile(file, flags) && ok;
    return ok ? 0 : 1;
  }
  if (args.length === 0) {
    process.stderr.write("sysctl: no variables specified\nTry `sysctl --help' for more information.\n");
    return 1;
  }
  let ok = true;
  const state = readState<SysctlState>('sysctl', EMPTY);
  const modules = loadedModules();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq >= 0) {
      ok = write(normalize(arg.slice(0, eq).trim()), arg.slice(eq + 1), flags) && ok;
      continue;
    }
    if (writeMode) {
      process.stderr.write(`sysctl: "${arg}" must be of the form name=value\n`);
      ok = false;
      continue;
    }
    const key = normalize(arg);
    try {
      const value = read(key, state, modules);
      process.stdout.write(flags.valuesOnly ? `${value}\n` : `${key} = ${value}\n`);
    } catch (err) {
      if (!(err instanceof NoSuchKey)) throw err;
      if (!flags.ignoreUnknown) {
        process.stderr.write(`${statError(key)}\n`);
        ok = false;
      }
    }
  }
  return ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
