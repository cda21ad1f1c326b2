/** Starting and stopping the detached lab mesh supervisor (meshSupervisor.ts) from `lab kubeconfig` / `lab down`. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeLoopbackAddress } from '../mesh/runtime/loopback';
import { isAlive, type ProcessRef, signal } from '../tools/processes';
import type { LabPaths } from './state';

/** What the supervisor is told (a file path, never credentials). */
export interface LabMeshSupervisorOptions {
  /** The pair's kubeconfig file (contexts west and east). */
  kubeconfigFile: string;
  west: { context: string; vpcCidr: string };
  east: { context: string; vpcCidr: string };
  gatewayBackend: { host: string; port: number };
}

/** What the supervisor reports in `mesh/ready.json`. */
export interface LabMeshRecord {
  supervisor: ProcessRef;
  /** Addresses it added to lo (removed by `lab down` if it was killed). */
  addresses: string[];
}

const meshDir = (paths: LabPaths) => path.join(paths.labDir, 'mesh');
const readyFile = (paths: LabPaths) => path.join(meshDir(paths), 'ready.json');
/** The supervisor's log. */
export const meshLog = (paths: LabPaths) => path.join(meshDir(paths), 'supervisor.log');

/** The running supervisor's record, if any. */
export function readMeshRecord(paths: LabPaths): LabMeshRecord | undefined {
  try {
    return JSON.parse(readFileSync(readyFile(paths), 'utf8')) as LabMeshRecord;
  } catch {
    return undefined;
  }
}

/** Starts the supervisor unless one runs (a running one keeps its state); resolves once it reported. */
export async function startMeshSupervisor(paths: LabPaths, options: LabMeshSupervisorOptions, timeoutMs = 15_000): Promise<{ started: boolean }> {
  if (isAlive(readMeshRecord(paths)?.supervisor)) return { started: false };
  mkdirSync(meshDir(paths), { recursive: true });
  rmSync(readyFile(paths), { force: true });
  const optionsFile = path.join(meshDir(paths), 'options.json');
  writeFileSync(optionsFile, `${JSON.stringify(options, null, 2)}\n`);
  const log = openSync(meshLog(paths), 'a');
  const child = spawn(process.execPath, [path.join(__dirname, 'meshSupervisor.js'), optionsFile, readyFile(paths)], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(readyFile(paths))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the lab mesh supervisor exited (${child.exitCode ?? child.signalCode}); see ${meshLog(paths)}`);
    if (Date.now() > deadline) throw new Error(`the lab mesh supervisor did not report within ${timeoutMs} ms; see ${meshLog(paths)}`);
    await sleep(50);
  }
  return { started: true };
}

/** Stops the supervisor (SIGTERM, then SIGKILL) and removes its addresses from lo. Idempotent. */
export async function stopMeshSupervisor(paths: LabPaths, timeoutMs = 10_000): Promise<boolean> {
  const record = readMeshRecord(paths);
  if (!record) return false;
  const running = isAlive(record.supervisor);
  signal(record.supervisor, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(record.supervisor) && Date.now() < deadline) await sleep(50);
  signal(record.supervisor, 'SIGKILL');
  for (const ip of record.addresses) await removeLoopbackAddress(ip);
  rmSync(readyFile(paths), { force: true });
  return running;
}
