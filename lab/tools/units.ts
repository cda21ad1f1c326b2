/**
 * The lab host's systemd units (`units.json`): containerd and kubelet (present once their package
 * is installed) and systemd-modules-load (static). containerd runs no process in the lab (no
 * containers can run here); kubelet runs the lab's `kubelet` under a small supervisor that
 * restarts it like `Restart=always` does.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hostLabDir, labSetting, readState, updateState } from './labState';
import { KNOWN_MODULES, loadModule, moduleName } from './modules';
import { readPackages } from './packages';
import { isAlive, processRef, type ProcessRef, signal, waitGoneSync } from './processes';

/** One unit's recorded state. */
export interface UnitState {
  enabled: boolean;
  /** Wanted running (started and not stopped). */
  active: boolean;
  /** When it was last started (ISO). */
  since?: string;
  /** The supervisor of the unit's process (kubelet). */
  supervisor?: ProcessRef;
  /** The unit's main process, written by the supervisor. */
  main?: ProcessRef;
  /** Started without a process, because the lab has no binary for it. */
  processless?: boolean;
}

/** What `units.json` holds. */
export interface UnitsState {
  units: Record<string, UnitState>;
}

/** A unit the lab knows. */
export interface UnitDefinition {
  name: string;
  description: string;
  /** The package that ships the unit; undefined for units of the base system. */
  package?: string;
  /** Units that run a program; the others are state only. */
  program?: string;
  /** `static` units cannot be enabled or disabled. */
  static?: boolean;
  fragment: string;
  dropIn?: string;
}

export const UNITS: Record<string, UnitDefinition> = {
  containerd: { name: 'containerd', description: 'containerd container runtime', package: 'containerd', fragment: '/lib/systemd/system/containerd.service' },
  kubelet: {
    name: 'kubelet',
    description: 'kubelet: The Kubernetes Node Agent',
    package: 'kubelet',
    program: 'kubelet',
    fragment: '/lib/systemd/system/kubelet.service',
    dropIn: '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf',
  },
  'systemd-modules-load': {
    name: 'systemd-modules-load',
    description: 'Load Kernel Modules',
    static: true,
    fragment: '/lib/systemd/system/systemd-modules-load.service',
  },
};

/** `kubelet.service` and `kubelet` name the same unit. */
export function unitName(arg: string): string {
  return arg.replace(/\.service$/, '');
}

/** The unit, when it exists on this host (its package is installed). */
export function unitDefinition(name: string): UnitDefinition | undefined {
  const unit = UNITS[name];
  if (!unit) return undefined;
  if (unit.package && !(unit.package in readPackages().installed)) return undefined;
  return unit;
}

const EMPTY: UnitsState = { units: {} };

export function readUnits(): UnitsState {
  return readState<UnitsState>('units', EMPTY);
}

export function unitState(name: string): UnitState {
  return readUnits().units[name] ?? { enabled: false, active: false };
}

export function updateUnit(name: string, change: (unit: UnitState) => void): UnitState {
  const next = updateState<UnitsState>('units', EMPTY, (state) => {
    const unit = state.units[name] ?? { enabled: false, active: false };
    change(unit);
    state.units[name] = unit;
  });
  return next.units[name];
}

/** systemd's words for a unit's state: active, activating (waiting to restart), inactive. */
export function activeState(name: string): 'active' | 'activating' | 'inactive' {
  const unit = UNITS[name];
  if (unit?.static) return 'active';
  const state = unitState(name);
  if (!state.active) return 'inactive';
  if (!unit?.program || state.processless) return 'active';
  if (!isAlive(state.supervisor)) return 'inactive';
  return isAlive(state.main) ? 'active' : 'activating';
}

/** Where the unit's program is: the lab's tools folder (`$KUBEHA_LAB_BIN`), else the launcher's folder. */
export function programPath(program: string): string | undefined {
  const dirs = [process.env.KUBEHA_LAB_BIN, ...(process.env.PATH ?? '').split(':')].filter((d): d is string => !!d);
  for (const dir of dirs) {
    const file = path.join(dir, program);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** `systemd-modules-load`: loads the modules named in /etc/modules-load.d/*.conf. */
function loadListedModules(): void {
  for (const dir of ['/etc/modules-load.d', '/run/modules-load.d', '/usr/lib/modules-load.d']) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.conf'));
    } catch {
      continue;
    }
    for (const file of names) {
      for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
        const module = moduleName(line.trim());
        if (module && !module.startsWith('#') && !module.startsWith(';') && module in KNOWN_MODULES) loadModule(module);
      }
    }
  }
}

/** How long the kubelet supervisor waits before a restart (kubelet.service: RestartSec=10). */
function restartSeconds(): number {
  const value = labSetting('unitRestartSeconds');
  return typeof value === 'number' ? value : 10;
}

/** Starts a unit (no-op when it already runs). */
export function startUnit(name: string): void {
  const unit = UNITS[name];
  if (unit.static) {
    if (name === 'systemd-modules-load') loadListedModules();
    return;
  }
  if (activeState(name) !== 'inactive') return;
  const program = unit.program ? programPath(unit.program) : undefined;
  if (!unit.program || !program) {
    updateUnit(name, (u) => {
      u.active = true;
      u.since = new Date().toISOString();
      u.processless = true;
      delete u.supervisor;
      delete u.main;
    });
    return;
  }
  const log = openSync(path.join(hostLabDir(), `${name}.log`), 'a');
  const child = spawn(process.execPath, [path.join(__dirname, 'unitSupervisor.js'), name, program, String(restartSeconds())], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  const supervisor = child.pid !== undefined ? processRef(child.pid) : undefined;
  updateUnit(name, (u) => {
    u.active = true;
    u.since = new Date().toISOString();
    u.processless = false;
    u.supervisor = supervisor;
    delete u.main;
  });
}

/** Stops a unit: the supervisor ends its process (TERM, then KILL), then itself. */
export function stopUnit(name: string): void {
  const state = unitState(name);
  if (state.supervisor) {
    signal(state.supervisor, 'SIGTERM');
    if (!waitGoneSync(state.supervisor, 10_000)) signal(state.supervisor, 'SIGKILL');
    if (!waitGoneSync(state.main, 5000)) signal(state.main, 'SIGKILL');
  }
  updateUnit(name, (u) => {
    u.active = false;
    delete u.supervisor;
    delete u.main;
    delete u.processless;
  });
}
