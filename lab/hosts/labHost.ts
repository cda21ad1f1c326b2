/**
 * A lab host: a directory tree and a real OpenSSH server in its own mount namespace, where the
 * host's directories are bind-mounted over the real paths (lab/README.md, "Hosts").
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostRole, HostSpec } from '../../common/inputs/shared';
import { isAlive, type ProcessRef, signal, waitGoneSync } from '../tools/processes';
import { HOST_BIND_FILES, HOST_BIND_PATHS, hostSide, labHostPaths, type LabHostPaths } from './layout';
import { createHostCgroup, hostCgroup, killCgroup, removeHostCgroup, type HostCgroup } from './hostCgroup';
import { addHostRules, firewallSupport, labNetworkLabel, removeRules } from './hostFirewall';
import { acquireMountPoints, releaseMountPoints, setMountPointOwner } from './mountPoints';
import { killNamespace, startNamespace } from './namespace';
import { ensureKey, fingerprintOf, startSshd, writeSshdFiles } from './sshd';

/** The compiled lab tools next to this file's compiled folder (dist/lab/tools, or a test build's). */
export const DEFAULT_TOOLS_JS_DIR = path.join(__dirname, '..', 'tools');

/** How to start a lab host. */
export interface LabHostOptions {
  /** The lab's folder, `<KUBEHA_DATA_DIR>/lab`. */
  labDir: string;
  /** The host's name (also its folder name). */
  name: string;
  /** Its own loopback address, e.g. 127.0.10.1. */
  address: string;
  /** sshd's port. Default 22. */
  port?: number;
  /** The lab tools' launchers. Default: `<repo>/lab/tools/bin`. */
  toolsBin?: string;
  /** The compiled lab tools. Default: {@link DEFAULT_TOOLS_JS_DIR}. */
  toolsJsDir?: string;
  /**
   * More tool folders on the hosts' PATH after `toolsBin`. Default: `lab/kube/bin` beside the tools
   * (its etcdctl points kubeha's `--endpoints=https://127.0.0.1:2379` at the host's own etcd).
   */
  extraBin?: string[];
  /**
   * The label of the lab's netfilter rules and cgroups (see hostFirewall.ts): the topology's
   * hostsBlockLabel. Default: the label the host had before, else one derived from `labDir`.
   */
  labLabel?: string;
}

/** What the lab records about a host while it runs (`hosts/<name>/lab/host.json`). */
export interface LabHostRecord {
  name: string;
  address: string;
  /** The published SSH port (the delay proxy's, when there is one). */
  port: number;
  /** Where sshd itself listens (differs from `port` behind the delay proxy). */
  sshdPort: number;
  toolsBin: string;
  toolsJsDir: string;
  /** More tool folders on PATH after `toolsBin`. */
  extraBin?: string[];
  hostKeyFingerprint: string;
  namespace?: string;
  holder?: ProcessRef;
  sshd?: ProcessRef;
  proxy?: ProcessRef;
  /** The label on the host's netfilter rules and cgroup (hostFirewall.ts). */
  label?: string;
  /**
   * The host's cgroup, which all its processes run in, while it runs. Absent when the machine
   * lacks cgroup v2 or iptables: the host's connections then leave from 127.0.0.1 and it cannot be
   * isolated.
   */
  cgroup?: HostCgroup;
  /** Whether the host is cut off from the others (faults.ts {@link isolate}). */
  isolated?: boolean;
}

/** A running lab host. */
export interface LabHost extends LabHostRecord {
  paths: LabHostPaths;
  /** The host's own files (`hosts/<name>/root`). */
  rootDir: string;
  /** The emulation's state (`hosts/<name>/lab`). */
  labDir: string;
  /** The lab's client key that the host accepts. */
  clientKeyPath: string;
}

/** Reads a host's record, if it was ever started. */
export function readLabHostRecord(paths: LabHostPaths): LabHostRecord | undefined {
  try {
    return JSON.parse(readFileSync(paths.record, 'utf8')) as LabHostRecord;
  } catch {
    return undefined;
  }
}

/** Saves a host's record. */
export function writeLabHostRecord(paths: LabHostPaths, record: LabHostRecord): void {
  writeFileSync(paths.record, `${JSON.stringify(record, null, 2)}\n`);
}

function toLabHost(paths: LabHostPaths, record: LabHostRecord): LabHost {
  return { ...record, paths, rootDir: paths.rootDir, labDir: paths.hostLabDir, clientKeyPath: paths.clientKey };
}

/** Whether the host's namespace is alive (its holder runs). */
export function isRunning(record: LabHostRecord | undefined): boolean {
  return isAlive(record?.holder);
}

/** The repository's lab tool launchers, found from this file (dist/lab/hosts or a test build). */
function defaultToolsBin(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'lab', 'tools', 'bin');
    if (existsSync(path.join(candidate, 'systemctl')) && existsSync(path.join(dir, 'package.json'))) return candidate;
  }
  throw new Error('cannot find lab/tools/bin above the compiled lab: give toolsBin');
}

/** `lab/kube/bin` next to the tools' `lab/tools/bin`, when it is there. */
function defaultExtraBin(toolsBin: string): string[] {
  const kubeBin = path.resolve(toolsBin, '..', '..', 'kube', 'bin');
  return existsSync(path.join(kubeBin, 'etcdctl')) ? [kubeBin] : [];
}

/**
 * Starts a lab host (or returns it when it already runs): its folders, keys, namespace with the
 * bind mounts, and sshd. The host key and the host's files are kept across restarts.
 */
export async function startLabHost(options: LabHostOptions): Promise<LabHost> {
  if (process.getuid?.() !== 0) throw new Error('lab hosts need root: mount namespaces, bind mounts and sshd');
  const paths = labHostPaths(path.resolve(options.labDir), options.name);
  const existing = readLabHostRecord(paths);
  if (existing && isRunning(existing) && isAlive(existing.sshd)) return toLabHost(paths, existing);
  if (existing && isRunning(existing)) await stopLabHost(toLabHost(paths, existing));

  mkdirSync(paths.hostLabDir, { recursive: true });
  for (const real of HOST_BIND_PATHS) mkdirSync(hostSide(paths.rootDir, real), { recursive: true });
  const files = HOST_BIND_FILES.filter((file) => existsSync(file));
  for (const file of files) {
    const own = hostSide(paths.rootDir, file);
    mkdirSync(path.dirname(own), { recursive: true });
    if (!existsSync(own)) writeFileSync(own, '# ~/.bashrc of a kubeha lab host\n');
  }
  // Marks the host's /sys/module as the lab's: the lab's modprobe keeps module folders there.
  writeFileSync(path.join(hostSide(paths.rootDir, '/sys/module'), '.kubeha-lab'), '');
  await ensureKey(paths.clientKey, 'kubeha-lab-client');
  await ensureKey(paths.hostKey, `kubeha-lab-host-${options.name}`);
  const hostKeyFingerprint = await fingerprintOf(`${paths.hostKey}.pub`);

  const port = options.port ?? 22;
  const label = options.labLabel ?? existing?.label ?? labNetworkLabel(paths.labDir);
  const toolsBin = path.resolve(options.toolsBin ?? defaultToolsBin());
  const record: LabHostRecord = {
    name: options.name,
    address: options.address,
    port,
    sshdPort: port,
    toolsBin,
    toolsJsDir: path.resolve(options.toolsJsDir ?? DEFAULT_TOOLS_JS_DIR),
    extraBin: (options.extraBin ?? defaultExtraBin(toolsBin)).map((dir) => path.resolve(dir)),
    hostKeyFingerprint,
    label,
    cgroup: firewallSupport().ok ? hostCgroup(label, options.name) : undefined,
  };
  writeSshdFiles(paths, {
    address: record.address,
    port,
    hostName: record.name,
    toolsBin: record.toolsBin,
    toolsJsDir: record.toolsJsDir,
    extraBin: record.extraBin,
  });

  const realPaths = HOST_BIND_PATHS.filter((p) => !p.startsWith('/sys/'));
  acquireMountPoints(paths.hostDir, realPaths);
  try {
    if (record.cgroup) {
      // Before any process of the host runs: its connections leave from its address from the first one on.
      createHostCgroup(record.cgroup);
      await addHostRules('source', label, record.name, record.address, record.cgroup);
    }
    writeLabHostRecord(paths, record);
    const binds = [...HOST_BIND_PATHS, ...files].map((target) => ({ source: hostSide(paths.rootDir, target), target }));
    const { holder, namespace } = await startNamespace(
      binds,
      path.join(paths.hostLabDir, 'namespace.ready'),
      path.join(paths.hostLabDir, 'namespace.log'),
      record.cgroup,
    );
    record.holder = holder;
    record.namespace = namespace;
    setMountPointOwner(paths.hostDir, holder);
    writeLabHostRecord(paths, record);
    record.sshd = await startSshd(paths, holder, record.cgroup);
    writeLabHostRecord(paths, record);
  } catch (err) {
    await stopLabHost(toLabHost(paths, record)).catch(() => undefined);
    throw err;
  }
  return toLabHost(paths, record);
}

/** What {@link stopLabHost} did. */
export interface StopReport {
  /** Processes killed in the host's namespace (sshd, sessions, daemons, the holder). */
  killed: boolean;
  /** Real directories removed because no lab host uses them any more. */
  removedMountPoints: string[];
}

/**
 * Stops a host: the delay proxy, its netfilter rules, then every process in its namespace and its
 * cgroup. The namespace goes with its last process, and its bind mounts with it; nothing is
 * unmounted on the machine. The host's files and keys stay for the next start.
 */
export async function stopLabHost(host: Pick<LabHost, 'paths'> | { labDir: string; name: string }): Promise<StopReport> {
  const paths = 'paths' in host ? host.paths : labHostPaths(path.resolve(host.labDir), host.name);
  const record = readLabHostRecord(paths);
  if (!record) return { killed: false, removedMountPoints: [] };
  if (record.proxy) {
    signal(record.proxy, 'SIGKILL');
    waitGoneSync(record.proxy, 5000);
  }
  if (record.label) await removeRules(record.label, record.name);
  let killed = false;
  if (record.namespace && isAlive(record.holder)) {
    await killNamespace(record.namespace);
    killed = true;
  } else if (record.sshd) {
    signal(record.sshd, 'SIGKILL');
  }
  if (record.cgroup) {
    await killCgroup(record.cgroup);
    await removeHostCgroup(record.cgroup);
  }
  const removedMountPoints = releaseMountPoints(paths.hostDir);
  const stopped: LabHostRecord = { ...(readLabHostRecord(paths) ?? record), port: record.port, sshdPort: record.port };
  delete stopped.holder;
  delete stopped.sshd;
  delete stopped.proxy;
  delete stopped.namespace;
  delete stopped.isolated;
  delete stopped.cgroup;
  writeLabHostRecord(paths, stopped);
  rmSync(path.join(paths.hostLabDir, 'sshd.pid'), { force: true });
  return { killed, removedMountPoints };
}

/** The {@link HostSpec} kubeha uses to reach a lab host: the lab's client key and the pinned host key. */
export function labHostSpec(host: LabHost, role: HostRole = 'control-plane'): HostSpec {
  return {
    name: host.name,
    address: host.address,
    role,
    ssh: {
      user: 'root',
      port: host.port,
      privateKey: { file: host.clientKeyPath },
      hostKeyFingerprint: host.hostKeyFingerprint,
      trustOnFirstUse: false,
      connectTimeoutSeconds: 5,
    },
  };
}
