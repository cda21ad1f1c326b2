/**
 * The lab host's kernel modules. The machine's own kernel is shared by every lab host (and may
 * have no module support at all), so loaded modules are the host's state in `modules.json`.
 * When the host's `/sys/module` is the lab's folder (bind-mounted by the lab host), a loaded
 * module also gets its directory there, as the kernel does.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { readState, updateState } from './labState';

/** What `modules.json` holds. */
export interface ModulesState {
  /** Loaded modules, in load order. */
  loaded: string[];
}

/** Modules the lab knows, with their size (as lsmod shows it) and the modules they need. */
export const KNOWN_MODULES: Record<string, { size: number; needs: string[] }> = {
  br_netfilter: { size: 32768, needs: ['bridge'] },
  bridge: { size: 311296, needs: ['stp', 'llc'] },
  stp: { size: 12288, needs: ['llc'] },
  llc: { size: 16384, needs: [] },
  overlay: { size: 151552, needs: [] },
  nf_conntrack: { size: 176128, needs: [] },
  nf_nat: { size: 49152, needs: ['nf_conntrack'] },
  ip_tables: { size: 32768, needs: [] },
  iptable_filter: { size: 12288, needs: ['ip_tables'] },
  iptable_nat: { size: 12288, needs: ['ip_tables', 'nf_nat'] },
  xt_conntrack: { size: 12288, needs: ['nf_conntrack'] },
  ip_vs: { size: 188416, needs: ['nf_conntrack'] },
  ip_vs_rr: { size: 12288, needs: ['ip_vs'] },
  ip_vs_wrr: { size: 12288, needs: ['ip_vs'] },
  ip_vs_sh: { size: 12288, needs: ['ip_vs'] },
  vxlan: { size: 110592, needs: [] },
  veth: { size: 40960, needs: [] },
};

/** Module names as the kernel writes them (modprobe accepts `-` and `_` alike). */
export function moduleName(name: string): string {
  return name.replace(/-/g, '_');
}

const EMPTY: ModulesState = { loaded: [] };

/** The modules loaded on this host. */
export function loadedModules(): string[] {
  return readState<ModulesState>('modules', EMPTY).loaded;
}

/** Whether the host's /sys/module is the lab's (then module directories are kept there). */
function labSysModule(): string | undefined {
  return existsSync('/sys/module/.kubeha-lab') ? '/sys/module' : undefined;
}

/** Loads a module and what it needs; returns the modules newly loaded. */
export function loadModule(name: string): string[] {
  const added: string[] = [];
  updateState<ModulesState>('modules', EMPTY, (state) => {
    const visit = (module: string) => {
      for (const need of KNOWN_MODULES[module]?.needs ?? []) visit(need);
      if (!state.loaded.includes(module)) {
        state.loaded.push(module);
        added.push(module);
      }
    };
    visit(name);
  });
  const sys = labSysModule();
  if (sys) for (const module of added) mkdirSync(path.join(sys, module), { recursive: true });
  return added;
}

/** The loaded modules that use `name`. */
export function usersOf(name: string, loaded: string[]): string[] {
  return loaded.filter((module) => KNOWN_MODULES[module]?.needs.includes(name));
}

/** Unloads a module; false when it is in use by another module. */
export function unloadModule(name: string): boolean {
  let removed = false;
  updateState<ModulesState>('modules', EMPTY, (state) => {
    if (usersOf(name, state.loaded).length > 0) return;
    removed = state.loaded.includes(name);
    state.loaded = state.loaded.filter((module) => module !== name);
  });
  const sys = labSysModule();
  if (sys && removed) rmSync(path.join(sys, name), { recursive: true, force: true });
  return removed || !loadedModules().includes(name);
}
