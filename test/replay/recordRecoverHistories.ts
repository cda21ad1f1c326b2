/**
 * Records RecoverControlPlane histories for the replay test (test/replay/replay.test.ts), with the stub
 * worlds of the workflow tests: a zone lost, the spare restored after an approve signal and the control
 * planes rejoined; and a refusal while quorum holds. Run after a deliberate change of RecoverControlPlane,
 * and commit the files:
 *   npm run build && node dist/test/replay/recordRecoverHistories.js
 */
import { bootstrappedZoneLost, recoverInput } from '../recover/fakeRecovery';
import { startTestTemporal } from '../support/temporal';
import { eventually, stubWorker } from '../support/workflowHarness';
import { writeHistory } from './writeHistory';

/** The task queue Worker.runReplayHistories gives the first replayed run (the replay test runs one replayer per process). */
const REPLAY_TASK_QUEUE = 'fake_replay_queue-0';

async function main(): Promise<void> {
  const env = await startTestTemporal();
  try {
    const lost = await bootstrappedZoneLost(env);
    // The cluster lock's workflow id names the task queue: record on the one the replayer runs histories on.
    const zone = await stubWorker(env, { ...lost.world.activities(), ...lost.recovery.activities() }, REPLAY_TASK_QUEUE);
    await zone.worker.runUntil(async () => {
      const handle = await env.client.workflow.start('RecoverControlPlane', {
        args: [recoverInput({ approval: { required: true, timeoutMinutes: 5 } })],
        taskQueue: zone.taskQueue,
        workflowId: 'recover-zone-lost',
      });
      await eventually(async () => ((await handle.query<{ phase: string }>('progress')).phase === 'waiting' ? true : undefined), 30_000, 'approval');
      await handle.signal('approve', { by: 'replay' });
      await eventually(async () => lost.world.etcd.size === 1 || undefined, 30_000, 'restored');
      lost.recovery.down.clear();
      await handle.result();
    });
    await writeHistory(env.address, 'recover-zone-lost');

    const held = await bootstrappedZoneLost(env);
    held.recovery.quorumLost = false;
    held.recovery.down.clear();
    const refusal = await stubWorker(env, { ...held.world.activities(), ...held.recovery.activities() });
    await refusal.worker.runUntil(
      env.client.workflow.execute('RecoverControlPlane', {
        args: [recoverInput({ precheck: { windowSeconds: 0, intervalSeconds: 2 } })],
        taskQueue: refusal.taskQueue,
        workflowId: 'recover-refused',
      }),
    );
    await writeHistory(env.address, 'recover-refused');
  } finally {
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
