/**
 * kubeadm init and join outlive the SSH session that started them. A worker that dies mid-command
 * (SIGKILL, a lost machine) drops its SSH connection; kubeadm, printing its progress into the
 * closed channel, would die of SIGPIPE half-way and leave a half-done init or join that the retried
 * activity must undo and run again. So kubeadm's output goes to a file in kubeha's 0700 folder on the
 * host, its pid goes next to it, and a retried activity first waits for a run that
 * is still going, then asks the world (which the finished run has changed) as usual.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostSpec } from '../../common/inputs/shared';
import { type HostRunner, REMOTE } from './context';

/** How often a retried activity looks again at an earlier run that still goes on. */
const POLL_MS = 3000;

function files(name: string): { log: string; pid: string } {
  return { log: `${REMOTE.configDir}/${name}.log`, pid: `${REMOTE.configDir}/${name}.pid` };
}

/**
 * `command` so that losing the SSH session does not stop it: it runs in the background with its
 * output in a file (printed when it is done, then removed: it may hold join credentials) and its pid
 * in another; the session waits for it and exits with its status.
 */
export function outlivingSession(command: string, name: string): string {
  const { log, pid } = files(name);
  return `${command} > ${log} 2>&1 < /dev/null & echo $! > ${pid}; wait $!; rc=$?; rm -f ${pid}; cat ${log}; rm -f ${log}; exit $rc`;
}

/**
 * Waits while a run of `name` that an earlier attempt started is still going on the host (its pid
 * alive and its command line still holding `marker`, kubeadm by default: a pid reused by another
 * process does not count), then removes what an
 * orphaned run left. Only a session that was cut leaves the pid file, so a normal attempt costs one
 * `test -e`. Returns whether it waited.
 */
export async function awaitEarlierRun(run: HostRunner, host: HostSpec, name: string, signal?: AbortSignal, marker = 'kubeadm'): Promise<boolean> {
  const { log, pid } = files(name);
  if (!(await run.exists(host, pid))) return false;
  for (let waited = false; ; waited = true) {
    const result = await run.run(host, {
      command: `p=$(cat ${pid} 2>/dev/null) && [ -n "$p" ] && grep -qs ${marker} /proc/"$p"/cmdline && exit 0; rm -f ${pid} ${log}; exit 1`,
      label: `an earlier ${name} still running?`,
    });
    if (result.exitCode !== 0) return waited;
    await sleep(POLL_MS, undefined, { signal });
  }
}
