/**
 * A lab host's kernel parameters as its `sysctl` shows them: values set on the host (`sysctl.json`),
 * else what a fresh host has (forwarding off; bridge netfilter keys only with br_netfilter loaded),
 * else the machine's /proc/sys. Shared by the lab's `sysctl` and kubeadm's preflight checks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readState } from './labState';
import { loadedModules } from './modules';

/** What `sysctl.json` holds: values set on this host. */
export interface SysctlState {
  values: Record<string, string>;
}

/** A host that set nothing. */
export const EMPTY: SysctlState = { values: {} };

/** Keys whose fresh-host value differs from the machine's, or that depend on a module. */
const FRESH_HOST: Record<string, { value: string; module?: string }> = {
  'net.ipv4.ip_forward': { value: '0' },
  'net.ipv6.conf.all.forwarding': { value: '0' },
  'net.bridge.bridge-nf-call-iptables': { value: '1', module: 'br_netfilter' },
  'net.bridge.bridge-nf-call-ip6tables': { value: '1', module: 'br_netfilter' },
  'net.bridge.bridge-nf-call-arptables': { value: '1', module: 'br_netfilter' },
};

/** A key the host does not have (its module not loaded, or unknown to the kernel). */
export class NoSuchKey extends Error {}

/** `net/ipv4/ip_forward` and `net.ipv4.ip_forward` name the same key. */
export function normalize(key: string): string {
  return key.includes('/') ? key.replace(/\//g, '.') : key;
}

/** The key's file under /proc/sys. */
export function procPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

/** Whether the key exists on the host (bridge keys only with br_netfilter loaded). */
export function exists(key: string, modules: string[]): boolean {
  const fresh = FRESH_HOST[key];
  if (fresh) return !fresh.module || modules.includes(fresh.module);
  return existsSync(procPath(key));
}

/** The key's value on the host; NoSuchKey when it has none. */
export function read(key: string, state: SysctlState, modules: string[]): string {
  if (!exists(key, modules)) throw new NoSuchKey(key);
  if (key in state.values) return state.values[key];
  const fresh = FRESH_HOST[key];
  if (fresh) return fresh.value;
  try {
    return readFileSync(procPath(key), 'utf8').trim().replace(/\s+/g, '\t');
  } catch {
    throw new NoSuchKey(key);
  }
}

/** The host's value of a key (`net.ipv4.ip_forward`), or undefined when the key does not exist there. */
export function hostSysctl(key: string): string | undefined {
  try {
    return read(normalize(key), readState<SysctlState>('sysctl', EMPTY), loadedModules());
  } catch (err) {
    if (err instanceof NoSuchKey) return undefined;
    throw err;
  }
}
