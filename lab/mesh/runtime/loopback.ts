/**
 * The lab's service load balancer addresses on this machine: each is added to the loopback interface
 * (`ip addr add <ip>/32 dev lo`), so a process here can listen on it and clients here reach it, while
 * the address itself stays a VPC address the API server accepts in Endpoints (it refuses loopback
 * ones). Needs root, as the rest of the lab.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Adds `ip` to lo unless it is there. */
export async function addLoopbackAddress(ip: string): Promise<void> {
  try {
    await run('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
  } catch (err) {
    if (!/File exists/.test((err as { stderr?: string }).stderr ?? '')) throw new Error(`cannot add ${ip} to lo: ${(err as Error).message}`);
  }
}

/** Removes `ip` from lo; absent is fine. */
export async function removeLoopbackAddress(ip: string): Promise<void> {
  await run('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo']).catch(() => undefined);
}
