/**
 * Probes of a lab host's reach, for the isolation tests: a script run as one of the host's processes
 * (in its mount namespace and cgroup, so it works while SSH cannot reach the host), bounded TCP
 * connects from the host and from the machine, a stream's received data; and another lab's rule,
 * which this lab must leave alone.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import type { LabHostRecord } from '../../../lab/hosts';
import { inCgroup } from '../../../lab/hosts/hostCgroup';

/** The result of a shell script run as one of a host's processes. */
export interface ScriptResult {
  code: number | null;
  output: string;
}

/**
 * Runs `script` as a process of the host would run: in its mount namespace and its cgroup, as sshd
 * starts each session. Works while the host is isolated, when SSH cannot reach it.
 */
export function asHost(record: LabHostRecord, script: string): Promise<ScriptResult> {
  const [program, ...args] = inCgroup(record.cgroup, ['nsenter', `--mount=/proc/${record.holder!.pid}/ns/mnt`, '--', 'bash', '-c', script]);
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A bash TCP connect, bounded so that a silently dropped SYN shows up as exit 124 instead of hanging. */
export function connectScript(address: string, port: number): string {
  return `timeout 10 bash -c 'exec 3<>/dev/tcp/${address}/${port}'`;
}

/** Connects from the machine: 'connected' or the error code (EHOSTUNREACH when cut off). */
export function connectFromMachine(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, address);
    const guard = setTimeout(() => {
      socket.destroy();
      resolve('no answer');
    }, 10_000);
    socket.once('connect', () => {
      clearTimeout(guard);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(guard);
      resolve(err.code ?? err.message);
    });
  });
}

/** Data that arrives on a stream, to wait for a piece of it or check that none came. */
export class Received {
  text = '';
  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (d: Buffer) => (this.text += d.toString('latin1')));
  }
  /** Resolves once `pattern` was received; fails after `ms`. */
  async waitFor(pattern: RegExp, what: string, ms = 60_000): Promise<void> {
    const started = Date.now();
    while (!pattern.test(this.text)) {
      if (Date.now() - started > ms) assert.fail(`${what} did not arrive; received ${JSON.stringify(this.text.slice(-200))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Another lab's rule (labelled `label`, rejecting traffic to `address`), as that lab's isolate fault writes it. */
export async function insertOtherLabRule(label: string, address: string): Promise<void> {
  await promisify(execFile)('iptables', [
    '-w',
    '-t',
    'filter',
    '-I',
    'INPUT',
    '-i',
    'lo',
    '-d',
    address,
    '-m',
    'comment',
    '--comment',
    `kubeha-lab:${label}:canary:isolate`,
    '-j',
    'REJECT',
  ]);
}
