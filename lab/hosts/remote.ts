/**
 * Runs one command on a lab host the way an operator at the machine would: with OpenSSH's own client,
 * the lab's client key and the host's real public key as the only known host. The lab uses this for
 * what a machine does by itself (starting its enabled units at boot); it never borrows kubeha's SSH
 * code, so a defect there cannot hide in the lab.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LabHost } from './labHost';

const run = promisify(execFile);

/** Runs `command` as root on `host`; resolves with its stdout, rejects with ssh's stderr. */
export async function runOnLabHost(host: LabHost, command: string, timeoutMs = 30_000): Promise<string> {
  const knownHosts = path.join(host.labDir, 'lab_known_hosts');
  const [type, key] = readFileSync(`${host.paths.hostKey}.pub`, 'utf8').trim().split(/\s+/);
  // OpenSSH names a host on port 22 by its bare address, on any other port as `[address]:port`.
  const name = host.port === 22 ? host.address : `[${host.address}]:${host.port}`;
  writeFileSync(knownHosts, `${name} ${type} ${key}\n`, { mode: 0o600 });
  const args = [
    '-i',
    host.clientKeyPath,
    '-p',
    String(host.port),
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    `root@${host.address}`,
    command,
  ];
  try {
    const { stdout } = await run('ssh', args, { timeout: timeoutMs, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const failure = err as { stderr?: string; message: string };
    throw new Error(`ssh to lab host ${host.name} (${host.address}:${host.port}): ${(failure.stderr || failure.message).trim()}`);
  }
}
