/**
 * Where a lab host lives on disk (lab/README.md, "Layout on disk") and which of its directories
 * are bind-mounted over the real paths inside its mount namespace.
 */
import path from 'node:path';

/**
 * The real paths a lab host owns. Inside the host's mount namespace each is the host's
 * `root/<path>`. `/sys/module` is there too: the lab's modprobe records loaded modules in it.
 */
export const HOST_BIND_PATHS = [
  '/etc/kubernetes',
  '/var/lib/etcd',
  '/var/lib/kubelet',
  '/etc/sysctl.d',
  '/etc/modules-load.d',
  '/etc/containerd',
  '/etc/cni/net.d',
  '/etc/apt/sources.list.d',
  '/etc/apt/keyrings',
  '/var/log/kubeha-lab',
  '/sys/module',
] as const;

/**
 * Files of the machine a lab host replaces with its own, when the machine has them: root's
 * ~/.bashrc, which bash reads for every command sshd runs. The machine's may put its own tool
 * folders before the lab tools on PATH, and slows each command down.
 */
export const HOST_BIND_FILES = ['/root/.bashrc'] as const;

/** The files and folders of one lab host. */
export interface LabHostPaths {
  /** The lab's folder (`<KUBEHA_DATA_DIR>/lab`). */
  labDir: string;
  /** `hosts/<name>`. */
  hostDir: string;
  /** `hosts/<name>/root`: the host's own files. */
  rootDir: string;
  /** `hosts/<name>/lab`: the emulation's state (`$KUBEHA_LAB_DIR` on the host). */
  hostLabDir: string;
  /** The lab's client key (private key file; `.pub` beside it). */
  clientKey: string;
  /** This host's SSH host key (private key file; `.pub` beside it). */
  hostKey: string;
  /** The lab's state.json (`$KUBEHA_LAB_STATE`). */
  stateFile: string;
  /** What the lab records about the running host (pids, ports). */
  record: string;
  sshdConfig: string;
  sshdLog: string;
  /** The forced command that logs each command line, then runs it. */
  sessionWrapper: string;
  authorizedKeys: string;
  commandsLog: string;
}

/** The paths of host `name` in the lab at `labDir`. */
export function labHostPaths(labDir: string, name: string): LabHostPaths {
  const hostDir = path.join(labDir, 'hosts', name);
  const hostLabDir = path.join(hostDir, 'lab');
  return {
    labDir,
    hostDir,
    rootDir: path.join(hostDir, 'root'),
    hostLabDir,
    clientKey: path.join(labDir, 'ssh', 'id_ed25519'),
    hostKey: path.join(labDir, 'ssh', `host-${name}_ed25519_key`),
    stateFile: path.join(labDir, 'state.json'),
    record: path.join(hostLabDir, 'host.json'),
    sshdConfig: path.join(hostLabDir, 'sshd_config'),
    sshdLog: path.join(hostLabDir, 'sshd.log'),
    sessionWrapper: path.join(hostLabDir, 'session.sh'),
    authorizedKeys: path.join(hostLabDir, 'authorized_keys'),
    commandsLog: path.join(hostLabDir, 'commands.log'),
  };
}

/** The host's own directory for a real path: `/etc/kubernetes` → `<root>/etc/kubernetes`. */
export function hostSide(rootDir: string, realPath: string): string {
  return path.join(rootDir, realPath);
}
