/** Starting and stopping the detached lab AWS supervisor (supervisor.ts) from `lab up` / `lab down`. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeHostsBlock } from '../aws/hostsFile';
import type { LabAwsOptions } from '../aws';
import { isAlive, processRef, signal } from '../tools/processes';
import type { LabAwsRecord, LabPaths } from './state';

/** Starts the supervisor and resolves once its lab AWS serves. */
export async function startAwsSupervisor(paths: LabPaths, options: LabAwsOptions, timeoutMs = 60_000): Promise<LabAwsRecord> {
  mkdirSync(paths.awsDir, { recursive: true });
  rmSync(paths.awsReadyFile, { force: true });
  const optionsFile = path.join(paths.awsDir, 'options.json');
  writeFileSync(optionsFile, `${JSON.stringify(options, null, 2)}\n`);
  const log = openSync(paths.awsLog, 'a');
  const child = spawn(process.execPath, [path.join(__dirname, 'supervisor.js'), optionsFile, paths.awsReadyFile], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  const started = Date.now();
  for (;;) {
    if (existsSync(paths.awsReadyFile)) {
      const ready = JSON.parse(readFileSync(paths.awsReadyFile, 'utf8')) as LabAwsRecord | { error: string };
      if ('error' in ready) throw new Error(`the lab AWS did not start: ${ready.error} (log: ${paths.awsLog})`);
      return ready;
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the lab AWS supervisor exited (${child.exitCode ?? child.signalCode}): ${tail(paths.awsLog)}`);
    }
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`the lab AWS did not serve within ${timeoutMs} ms: ${tail(paths.awsLog)}`);
    }
    await sleep(50);
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

/** Whether the supervisor recorded in `record` still runs. */
export function awsRunning(record: LabAwsRecord | undefined): boolean {
  return isAlive(record?.supervisor);
}

/**
 * Stops the supervisor (it stops moto, the proxies and removes the hosts block); when it does not end
 * in time, kills it and does its cleanup here. Idempotent.
 */
export async function stopAwsSupervisor(record: LabAwsRecord | undefined, timeoutMs = 15_000): Promise<void> {
  if (!record) return;
  if (isAlive(record.supervisor)) {
    signal(record.supervisor, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (isAlive(record.supervisor) && Date.now() < deadline) await sleep(50);
    signal(record.supervisor, 'SIGKILL');
  }
  // Left behind only when the supervisor was killed: moto and the hosts block.
  const moto = record.motoPid !== undefined ? processRef(record.motoPid) : undefined;
  if (moto && readCommand(moto.pid).includes('moto_server')) signal(moto, 'SIGKILL');
  await removeHostsBlock(record.hostsFile, record.hostsBlockLabel).catch(() => undefined);
}

function readCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
