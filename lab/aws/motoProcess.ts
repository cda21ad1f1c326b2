/**
 * The lab's moto_server: the real one from the project's virtualenv, on a free port, stopped with
 * SIGTERM (then SIGKILL) by the lab.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../../lib/freePort';

/** A running moto_server. */
export interface MotoProcess {
  /** `http://<host>:<port>`. */
  endpoint: string;
  pid?: number;
  /** True while the process runs. */
  running(): boolean;
  stop(): Promise<void>;
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode} before it answered`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const ended = await Promise.race([exited.then(() => true), delay(5000).then(() => false)]);
  if (!ended) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Starts moto_server on host and a free port, and waits until it answers. */
export async function startMotoProcess(executable: string, host: string): Promise<MotoProcess> {
  let lastError: unknown;
  // A free port can be taken between the probe and moto's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(host);
    const endpoint = `http://${host}:${port}`;
    const child = spawn(executable, ['-H', host, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    // moto logs every request on stderr: keep only the tail, for a failure message.
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    try {
      await waitUntilAnswering(endpoint, child, 30_000);
      return {
        endpoint,
        pid: child.pid,
        running: () => child.exitCode === null && child.signalCode === null,
        stop: () => stopChild(child),
      };
    } catch (err) {
      lastError = new Error(`${(err as Error).message}\n${stderr}`);
      await stopChild(child);
    }
  }
  throw lastError;
}
