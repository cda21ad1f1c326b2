/**
 * Pieces shared by the tests that run kubeha's worker in a child process and kill it mid-run
 * (test/lab/e2e/resume.test.ts, the crash campaigns under test/chaos/crash): start the child and wait
 * until it polls, wait for its exit, ask Temporal which activities are running and on which worker,
 * and read the lab AWS front's status.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { LabAwsStatus } from '../../../lab/aws';
import { WORKER_RUNNING } from './workerProcess';

/** PendingActivityState.STARTED in Temporal's API. */
export const PENDING_ACTIVITY_STARTED = 2;

/** An activity a worker has picked up and not finished, as Temporal describes it. */
export interface StartedActivity {
  id: string;
  type: string;
  attempt: number;
  /** The identity of the worker that last picked it up. */
  worker: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What Temporal says the run is doing right now: its status and its started activities. */
export async function pendingActivities(handle: WorkflowHandle): Promise<{ status: string; started: StartedActivity[] }> {
  const description = await handle.describe();
  const started = (description.raw.pendingActivities ?? [])
    .filter((a) => Number(a.state) === PENDING_ACTIVITY_STARTED)
    .map((a) => ({ id: a.activityId ?? '', type: a.activityType?.name ?? '', attempt: a.attempt ?? 0, worker: a.lastWorkerIdentity ?? '' }));
  return { status: description.status.name, started };
}

/** A worker in a child process, with everything it printed so far. */
export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
}

/**
 * Starts a worker script (default test/lab/e2e/workerProcess.js) as a child process and resolves once
 * it prints {@link WORKER_RUNNING}.
 */
export async function startWorkerProcess(
  env: NodeJS.ProcessEnv,
  script = path.join(__dirname, 'workerProcess.js'),
  timeoutMs = 120_000,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const deadline = Date.now() + timeoutMs;
  while (!text.includes(WORKER_RUNNING)) {
    assert.equal(child.exitCode, null, `the worker process exited: ${text.slice(-2000)}`);
    assert.ok(Date.now() < deadline, `the worker process did not start: ${text.slice(-2000)}`);
    await sleep(100);
  }
  return { child, output: () => text };
}

/** Resolves with the signal that ended the child (null when it exited by itself). */
export function exitOf(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

/** The lab AWS front's view: load balancers, their targets and states, pending faults. */
export async function frontStatus(endpoint: string): Promise<LabAwsStatus> {
  const response = await fetch(`${endpoint}/kubeha-lab/status`);
  assert.equal(response.status, 200);
  return (await response.json()) as LabAwsStatus;
}
