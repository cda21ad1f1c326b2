/**
 * Lab `systemctl`: is-active, is-enabled, enable [--now], disable [--now], start, stop, restart,
 * daemon-reload and status, for the units in units.ts, with systemd's messages and exit codes
 * (3 = not active, 4 = no such unit for status, 5 = unit not found for start/stop, 1 otherwise).
 */
import { activeState, startUnit, stopUnit, unitDefinition, unitName, UNITS, unitState, updateUnit } from './units';

const WANTS = '/etc/systemd/system/multi-user.target.wants';

function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function isActive(names: string[], quiet: boolean): number {
  let code = 0;
  for (const name of names) {
    const state = unitDefinition(name) ? activeState(name) : 'inactive';
    if (!quiet) out(state);
    if (state !== 'active') code = 3;
  }
  return code;
}

function isEnabled(names: string[], quiet: boolean): number {
  let code = 0;
  for (const name of names) {
    const unit = unitDefinition(name);
    if (!unit) {
      err(`Failed to get unit file state for ${name}.service: No such file or directory`);
      code = 1;
      continue;
    }
    const state = unit.static ? 'static' : unitState(name).enabled ? 'enabled' : 'disabled';
    if (!quiet) out(state);
    if (state === 'disabled') code = 1;
  }
  return code;
}

function enable(names: string[], now: boolean, on: boolean): number {
  for (const name of names) {
    const unit = unitDefinition(name);
    if (!unit) {
      err(`Failed to ${on ? 'enable' : 'disable'} unit: Unit file ${name}.service does not exist.`);
      return 1;
    }
    if (unit.static) {
      err(
        `The unit files have no installation config (WantedBy=, RequiredBy=, Also=,\nAlias= settings in the [Install] section, and DefaultInstance= for template\nunits). This means they are not meant to be enabled or disabled using systemctl.`,
      );
      continue;
    }
    if (unitState(name).enabled !== on) {
      updateUnit(name, (u) => {
        u.enabled = on;
      });
      if (on) err(`Created symlink ${WANTS}/${name}.service → ${unit.fragment}.`);
      else err(`Removed "${WANTS}/${name}.service".`);
    }
    if (now) (on ? startUnit : stopUnit)(name);
  }
  return 0;
}

function startStop(verb: 'start' | 'stop' | 'restart', names: string[]): number {
  for (const name of names) {
    if (!unitDefinition(name)) {
      err(`Failed to ${verb} ${name}.service: Unit ${name}.service not found.`);
      return 5;
    }
    if (verb !== 'start') stopUnit(name);
    if (verb !== 'stop') startUnit(name);
  }
  return 0;
}

function status(names: string[]): number {
  let code = 0;
  for (const name of names) {
    const unit = unitDefinition(name);
    if (!unit) {
      err(`Unit ${name}.service could not be found.`);
      code = 4;
      continue;
    }
    const state = unitState(name);
    const active = activeState(name);
    const enabled = unit.static ? 'static' : state.enabled ? 'enabled' : 'disabled';
    const since = state.since ? ` since ${new Date(state.since).toUTCString()}` : '';
    const detail =
      active === 'active'
        ? unit.program && !state.processless
          ? `active (running)${since}`
          : `active (exited)${since}`
        : active === 'activating'
          ? 'activating (auto-restart)'
          : 'inactive (dead)';
    const lines = [`● ${name}.service - ${unit.description}`, `     Loaded: loaded (${unit.fragment}; ${enabled}; preset: enabled)`];
    if (unit.dropIn) lines.push(`    Drop-In: ${unit.dropIn.replace(/\/[^/]+$/, '')}`, `             └─${unit.dropIn.replace(/^.*\//, '')}`);
    lines.push(`     Active: ${detail}`);
    if (active === 'active' && state.main) lines.push(`   Main PID: ${state.main.pid} (${name})`);
    out(lines.join('\n'));
    if (active !== 'active') code = 3;
  }
  return code;
}

function main(argv: string[]): number {
  let quiet = false;
  let now = false;
  const words: string[] = [];
  for (const arg of argv) {
    if (arg === '-q' || arg === '--quiet') quiet = true;
    else if (arg === '--now') now = true;
    else if (['--no-pager', '--no-block', '--system', '--no-ask-password', '-l', '--full', '--no-legend'].includes(arg)) continue;
    else if (arg.startsWith('-')) {
      err(`systemctl: unrecognized option '${arg}'`);
      return 1;
    } else words.push(arg);
  }
  const [verb, ...rest] = words;
  const names = rest.map(unitName);
  if (verb === 'daemon-reload') return 0;
  if (!verb) {
    for (const name of Object.keys(UNITS)) if (unitDefinition(name)) out(`${name}.service loaded ${activeState(name)}`);
    return 0;
  }
  if (names.length === 0) {
    err(`Too few arguments.`);
    return 1;
  }
  switch (verb) {
    case 'is-active':
      return isActive(names, quiet);
    case 'is-enabled':
      return isEnabled(names, quiet);
    case 'enable':
      return enable(names, now, true);
    case 'disable':
      return enable(names, now, false);
    case 'start':
    case 'stop':
    case 'restart':
      return startStop(verb, names);
    case 'status':
      return status(names);
    default:
      err(`Unknown command verb '${verb}'.`);
      return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
