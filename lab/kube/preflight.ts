/**
 * kubeadm's pre-flight checks (preflight/checks.go) that matter on a lab host: root, the container
 * runtime's socket, swap (a warning since kubeadm 1.28), IPv4 forwarding, the ports the node needs,
 * files and directories an earlier init or join left. The host's kernel settings, swap and
 * containerd are the lab host's own (the lab's sysctl, swapon and systemctl state), so kubeha's
 * prepareHost is what makes them pass. Names and texts are kubeadm's; `--ignore-preflight-errors`
 * (and nodeRegistration.ignorePreflightErrors) turn errors into warnings.
 *
 * Lab differences: ports are checked on the host's own address (all lab hosts share the machine's
 * network; kubeadm binds the kubelet's and schedulers' ports on every address), and the runtime
 * socket is there while the host's containerd unit is active (no container runtime runs here).
 */
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { readState } from '../tools/labState';
import type { SwapState } from '../tools/swapon';
import { hostSysctl } from '../tools/sysctlValues';
import { activeState } from '../tools/units';
import { UsageError } from './args';
import { KubeadmError } from './errors';

/** One check's finding; a warning never fails the run. */
export interface PreflightIssue {
  name: string;
  message: string;
  warning?: boolean;
}

/** Whether a TCP port is free on an address (binding is the only honest test). */
export function portFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'EADDRINUSE'));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The check name kubeadm derives from a path: /etc/kubernetes/kubelet.conf → etc-kubernetes-kubelet.conf. */
function pathCheckName(file: string): string {
  return file.replace(/^\//, '').replaceAll('/', '-');
}

/** FileAvailable: the file must not exist. */
export function fileAvailable(file: string): PreflightIssue | undefined {
  return existsSync(file) ? { name: `FileAvailable--${pathCheckName(file)}`, message: `${file} already exists` } : undefined;
}

/** DirAvailable: the directory must be empty or absent. */
export function dirAvailable(dir: string): PreflightIssue | undefined {
  return existsSync(dir) && readdirSync(dir).length > 0 ? { name: `DirAvailable--${pathCheckName(dir)}`, message: `${dir} is not empty` } : undefined;
}

/** Port-N: the port must be free on the host's address. */
export async function portAvailable(address: string, port: number): Promise<PreflightIssue | undefined> {
  return (await portFree(address, port)) ? undefined : { name: `Port-${port}`, message: `Port ${port} is in use` };
}

/** FileContent--proc-sys-net-ipv4-ip_forward: forwarding must be on (for an IPv4 cluster). */
export function ipv4Forwarding(): PreflightIssue | undefined {
  const file = '/proc/sys/net/ipv4/ip_forward';
  const name = `FileContent-${file.replaceAll('/', '-')}`;
  const value = hostSysctl('net.ipv4.ip_forward');
  if (value === undefined) return { name, message: `${file} does not exist` };
  return value === '1' ? undefined : { name, message: `${file} contents are not set to 1` };
}

/** Swap: kubeadm only warns (the kubelet can run with swap on cgroup v2 when configured to). */
export function swap(): PreflightIssue | undefined {
  const { areas } = readState<SwapState>('swap', { areas: [] });
  if (areas.length === 0) return undefined;
  return {
    name: 'Swap',
    warning: true,
    message:
      'swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, or disable swap on the node',
  };
}

/** containerd's CRI socket, at either of its paths. */
const CONTAINERD_SOCKETS = ['/var/run/containerd/containerd.sock', '/run/containerd/containerd.sock'];

/** CRI and ContainerRuntimeVersion: kubeadm reaches the runtime on its socket (nodeRegistration.criSocket). */
export function containerRuntime(criSocket: string): PreflightIssue[] {
  const endpoint = criSocket.includes('://') ? criSocket : `unix://${criSocket}`;
  const socket = endpoint.replace(/^unix:\/\//, '');
  if (CONTAINERD_SOCKETS.includes(socket) && activeState('containerd') === 'active') return [];
  const message = `could not connect to the container runtime: failed to create new CRI runtime service: validate service connection: validate CRI v1 runtime API for endpoint ${JSON.stringify(endpoint)}: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix ${socket}: connect: no such file or directory"`;
  return [
    { name: 'CRI', message },
    { name: 'ContainerRuntimeVersion', message },
  ];
}

/** The checks every node gets (addCommonChecks): the runtime, swap, the kubelet's port. */
export async function nodeChecks(criSocket: string, address: string): Promise<(PreflightIssue | undefined)[]> {
  return [...containerRuntime(criSocket), swap(), await portAvailable(address, 10250)];
}

/** The ignored checks, lower-cased, from the flag and the config file; `all` may not be mixed with names. */
export function ignoredChecks(fromFlag: string[], fromConfig: string[]): string[] {
  const all = [
    ...new Set(
      [...fromConfig, ...fromFlag]
        .flatMap((i) => i.split(','))
        .map((i) => i.trim().toLowerCase())
        .filter(Boolean),
    ),
  ].sort();
  if (all.includes('all') && all.length > 1)
    throw new UsageError(`ignore-preflight-errors: Invalid value: ${JSON.stringify(all.join(','))}: don't specify individual checks if 'all' is used`);
  return all;
}

/** IsPrivilegedUser. */
export function privilegedUser(): PreflightIssue | undefined {
  return process.getuid && process.getuid() !== 0 ? { name: 'IsPrivilegedUser', message: 'user is not running as root' } : undefined;
}

/**
 * Reports the issues as kubeadm's RunChecks does: warnings and ignored errors as `[WARNING name]`
 * lines, the rest after "[preflight] Some fatal errors occurred:" as `[ERROR name]` lines, and the
 * run fails with "preflight checks failed".
 */
export function reportPreflight(issues: (PreflightIssue | PreflightIssue[] | undefined)[], ignore: string[], warn: (line: string) => void): void {
  const all = new Set(ignore.map((i) => i.toLowerCase()));
  const fatal: PreflightIssue[] = [];
  for (const issue of issues.flat()) {
    if (!issue) continue;
    if (issue.warning || all.has('all') || all.has(issue.name.toLowerCase())) warn(`\t[WARNING ${issue.name}]: ${issue.message}`);
    else fatal.push(issue);
  }
  if (fatal.length === 0) return;
  const lines = fatal.map((i) => `\t[ERROR ${i.name}]: ${i.message}\n`).join('');
  throw new KubeadmError('preflight checks failed', {
    preamble: `[preflight] Some fatal errors occurred:\n${lines}[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``,
  });
}
