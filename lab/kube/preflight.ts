/**
 * kubeadm's pre-flight checks that matter on a lab host: ports the control plane needs on the
 * host's address, files and directories an earlier init or join left, and root. Errors print as
 * kubeadm prints them; `--ignore-preflight-errors` turns them into warnings.
 */
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { KubeadmError } from './errors';

/** One check's finding. */
export interface PreflightIssue {
  name: string;
  message: string;
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

/** IsPrivilegedUser. */
export function privilegedUser(): PreflightIssue | undefined {
  return process.getuid && process.getuid() !== 0 ? { name: 'IsPrivilegedUser', message: 'user is not running as root' } : undefined;
}

/**
 * Reports the issues: ignored ones as warnings, the rest as kubeadm's fatal error
 * ("[preflight] Some fatal errors occurred:" and one `[ERROR name]: message` per line).
 */
export function reportPreflight(issues: (PreflightIssue | undefined)[], ignore: string[], warn: (line: string) => void): void {
  const all = new Set(ignore.map((i) => i.toLowerCase()));
  const fatal: PreflightIssue[] = [];
  for (const issue of issues) {
    if (!issue) continue;
    if (all.has('all') || all.has(issue.name.toLowerCase())) warn(`\t[WARNING ${issue.name}]: ${issue.message}`);
    else fatal.push(issue);
  }
  if (fatal.length === 0) return;
  const lines = fatal.map((i) => `\t[ERROR ${i.name}]: ${i.message}\n`).join('');
  throw new KubeadmError(`[preflight] Some fatal errors occurred:\n${lines}[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``);
}
