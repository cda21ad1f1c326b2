/**
 * Runs a unit's program the way systemd does for `Restart=always`: starts it, records its pid in
 * units.json, and starts it again `RestartSec` after it exits, until told to stop (SIGTERM).
 * kubelet's arguments are those of kubeadm's drop-in (10-kubeadm.conf), read again at every start
 * like its EnvironmentFile: /var/lib/kubelet/kubeadm-flags.env.
 *
 * Usage (by systemctl only): unitSupervisor.js <unit> <program> <restartSeconds>
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { processRef } from './processes';
import { updateUnit } from './units';

const [unit, program, restartArg] = process.argv.slice(2);
const restartMs = Number(restartArg) * 1000;

/** The words of `KUBELET_KUBEADM_ARGS="..."` in kubeadm's flags file. */
function kubeadmFlags(): string[] {
  try {
    const text = readFileSync('/var/lib/kubelet/kubeadm-flags.env', 'utf8');
    const match = /KUBELET_KUBEADM_ARGS="([^"]*)"/.exec(text);
    return match ? match[1].split(/\s+/).filter(Boolean) : [];
  } catch {
    return [];
  }
}

function argumentsOf(name: string): string[] {
  if (name !== 'kubelet') return [];
  return [
    '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
    '--kubeconfig=/etc/kubernetes/kubelet.conf',
    '--config=/var/lib/kubelet/config.yaml',
    ...kubeadmFlags(),
  ];
}

let child: ChildProcess | undefined;
let stopping = false;
let restartTimer: NodeJS.Timeout | undefined;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} lab-systemd: ${unit}.service: ${message}\n`);
}

function start(): void {
  restartTimer = undefined;
  if (stopping) return;
  child = spawn(program, argumentsOf(unit), { stdio: ['ignore', 'inherit', 'inherit'] });
  const main = child.pid !== undefined ? processRef(child.pid) : undefined;
  updateUnit(unit, (u) => {
    u.main = main;
  });
  log(`started ${program} (pid ${child.pid})`);
  child.on('error', (err) => log(`cannot start: ${err.message}`));
  child.on('exit', (code, sig) => {
    child = undefined;
    if (stopping) return process.exit(0);
    log(`main process exited, code=${code ?? 'killed'}${sig ? `, signal=${sig}` : ''}; scheduled restart in ${restartMs / 1000}s`);
    restartTimer = setTimeout(start, restartMs);
  });
}

process.on('SIGTERM', () => {
  stopping = true;
  if (restartTimer) clearTimeout(restartTimer);
  if (!child) process.exit(0);
  child.kill('SIGTERM');
  // systemd's TimeoutStopSec, shortened: a lab process that ignores TERM is killed after 5 s.
  setTimeout(() => child?.kill('SIGKILL'), 5000).unref();
});

start();
