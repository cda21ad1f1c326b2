/**
 * Cutting a host's loopback address off with a `prohibit` route in the local routing table
 * (iproute2): connecting to it fails with EACCES, packets to it are refused. iptables would do the
 * same but is not installed on these machines; a route needs only iproute2.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Adds the route; nothing reaches `address` until {@link removeIsolationRoute}. */
export async function addIsolationRoute(address: string): Promise<void> {
  await run('ip', ['route', 'replace', 'prohibit', `${address}/32`, 'table', 'local']);
}

/** Removes the route (no error when it is already gone). */
export async function removeIsolationRoute(address: string): Promise<void> {
  await run('ip', ['route', 'del', 'prohibit', `${address}/32`, 'table', 'local']).catch((err: Error) => {
    if (!/No such process|not found|Cannot find/i.test(err.message)) throw err;
  });
}
