/**
 * Helpers shared by the SSH transport tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { failureInfo, type FailureInfo } from '../../common/errors';
import { FileKnownHostsStore } from '../../activities/ssh/knownHosts';

/** A scratch directory removed by `cleanup()`. */
export async function scratchDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A known-hosts store in a scratch file, so tests never touch the real data directory. */
export function knownHostsIn(dir: string): FileKnownHostsStore {
  return new FileKnownHostsStore(path.join(dir, 'known_hosts.json'));
}

/** Asserts a kubeha failure of the given type and retryability; returns it with its info. */
export function expectFailure(err: unknown, type: string, retryable: boolean): { failure: ApplicationFailure; info: FailureInfo } {
  assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
  assert.equal(err.type, type, `type of: ${err.message}`);
  assert.equal(err.nonRetryable, !retryable, `retryability of: ${err.message}`);
  const info = failureInfo(err);
  assert.ok(info, 'failure carries FailureInfo');
  assert.ok(info.hint.length > 10, 'failure has a hint');
  return { failure: err, info };
}

/** Resolves with the rejection of a promise that must reject. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

/** Whether a local process is alive, zombies excepted (the tests' sshd runs on this machine). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
