/**
 * Faults a test or `kubeha lab fault` can inject into a lab host:
 * - {@link dropSsh} / {@link restoreSsh}: sshd stops accepting (connection refused); the host's
 *   other processes and open sessions keep running.
 * - {@link delaySsh}: SSH traffic gets latency, through a proxy that takes over the published port.
 * - {@link isolate} / {@link rejoin}: the host is cut off from every other host and from the
 *   machine, both ways: nobody reaches it, it reaches nobody, established connections stall; its
 *   processes still talk to each other. Done with netfilter rules on the host's address and cgroup
 *   (hostFirewall.ts).
 * Stopping and starting a host is {@link stopLabHost} / {@link startLabHost}.
 */
import { spawn } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isAlive, processRef, signal, waitGoneSync } from '../tools/processes';
import { addHostRules, firewallSupport, removeRules } from './hostFirewall';
import { type LabHost, readLabHostRecord, writeLabHostRecord } from './labHost';
import { startSshd, writeSshdFiles } from './sshd';
import { freePort } from '../../lib/freePort';

function current(host: LabHost) {
  const record = readLabHostRecord(host.paths);
  if (!record?.holder || !isAlive(record.holder)) throw new Error(`lab host ${host.name} is not running`);
  return record;
}

/** sshd stops listening: new connections are refused; open sessions and the host's daemons go on. */
export async function dropSsh(host: LabHost): Promise<void> {
  const record = current(host);
  signal(record.sshd, 'SIGTERM');
  if (!waitGoneSync(record.sshd, 5000)) signal(record.sshd, 'SIGKILL');
  delete record.sshd;
  writeLabHostRecord(host.paths, record);
}

/** sshd listens again (same host key, same port). */
export async function restoreSsh(host: LabHost): Promise<void> {
  const record = current(host);
  if (isAlive(record.sshd)) return;
  record.sshd = await startSshd(host.paths, record.holder!, record.cgroup);
  writeLabHostRecord(host.paths, record);
}

async function waitListening(address: string, port: number, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, address);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - started > timeoutMs) throw new Error(`nothing listens on ${address}:${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Adds `ms` of latency to each chunk of SSH traffic, both ways (0 removes it). The first call moves
 * sshd to a private port and puts the delay proxy on the published one, which it keeps until the
 * host stops; open sessions are not cut.
 */
export async function delaySsh(host: LabHost, ms: number): Promise<void> {
  const record = current(host);
  const delayFile = path.join(host.paths.hostLabDir, 'ssh-delay-ms');
  writeFileSync(delayFile, `${Math.max(0, Math.round(ms))}\n`);
  if (isAlive(record.proxy)) {
    // The proxy reads the file every 100 ms: return once the new delay applies.
    await new Promise((r) => setTimeout(r, 250));
    return;
  }
  const sshdPort = await freePort(record.address);
  writeSshdFiles(host.paths, {
    address: record.address,
    port: sshdPort,
    hostName: record.name,
    toolsBin: record.toolsBin,
    toolsJsDir: record.toolsJsDir,
    extraBin: record.extraBin,
  });
  signal(record.sshd, 'SIGTERM');
  if (!waitGoneSync(record.sshd, 5000)) signal(record.sshd, 'SIGKILL');
  record.sshd = await startSshd(host.paths, record.holder!, record.cgroup);
  record.sshdPort = sshdPort;
  const log = openSync(path.join(host.paths.hostLabDir, 'delay-proxy.log'), 'a');
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'delayProxy.js'), record.address, String(record.port), record.address, String(sshdPort), delayFile],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  record.proxy = child.pid !== undefined ? processRef(child.pid) : undefined;
  writeLabHostRecord(host.paths, record);
  await waitListening(record.address, record.port);
}

/**
 * Cuts the host off from the others, both ways: new connections between it and any other host or
 * the machine fail ("No route to host"), established ones stall. Its own processes keep talking to
 * each other (its kube-apiserver to its etcd).
 */
export async function isolate(host: LabHost): Promise<void> {
  const record = current(host);
  if (record.isolated) return;
  if (!record.label || !record.cgroup) {
    const support = firewallSupport();
    throw new Error(
      `${host.name} cannot be isolated: ${support.ok ? 'it was started without its own cgroup (cgroup v2 is not mounted); start it again' : support.reason}`,
    );
  }
  await addHostRules('isolate', record.label, record.name, record.address);
  record.isolated = true;
  writeLabHostRecord(host.paths, record);
}

/** Ends {@link isolate}: the host's rules that cut it off are removed; stalled connections resume. */
export async function rejoin(host: LabHost): Promise<void> {
  const record = readLabHostRecord(host.paths);
  if (!record?.isolated) return;
  if (record.label) await removeRules(record.label, record.name, 'isolate');
  delete record.isolated;
  writeLabHostRecord(host.paths, record);
}
