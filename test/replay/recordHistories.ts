/**
 * Records the histories the replay test checks: finished runs of each workflow in its main shapes
 * (happy path, a failed step retried by the operator, refreshed credentials, dry run, bad input).
 * Run after a deliberate change of workflow logic, and commit the files:
 *   npm run build && node dist/test/replay/recordHistories.js
 */
import { FakeWorld, permanentFailure } from '../support/fakeWorld';
import { bootstrapInput } from '../support/inputs';
import { startTestTemporal } from '../support/temporal';
import { writeHistory } from './writeHistory';
import { eventually, stubWorker } from '../support/workflowHarness';

interface Scenario {
  name: string;
  input: unknown;
  prepare?: (world: FakeWorld) => void;
  /** Signals to send once the run holds. */
  retryWhenHeld?: boolean;
}

const scenarios: Scenario[] = [
  { name: 'bootstrap-happy-path', input: bootstrapInput() },
  {
    name: 'bootstrap-retried-join',
    input: bootstrapInput(),
    prepare: (w) => w.injections.push({ activity: 'kubeadmJoin', host: 'cp-3', error: permanentFailure('node cp-3 preflight failed') }),
    retryWhenHeld: true,
  },
  { name: 'bootstrap-refreshed-credentials', input: bootstrapInput(), prepare: (w) => (w.certificateKeyLifetimeMs = 60_000) },
  { name: 'bootstrap-dry-run', input: bootstrapInput({ dryRun: true }) },
  { name: 'bootstrap-invalid-input', input: { ...bootstrapInput(), clusterName: 'Not A Label' } },
];

async function main(): Promise<void> {
  const env = await startTestTemporal();
  try {
    for (const scenario of scenarios) {
      const world = new FakeWorld();
      scenario.prepare?.(world);
      const { worker, taskQueue } = await stubWorker(env, world.activities());
      await worker.runUntil(async () => {
        const handle = await env.client.workflow.start('BootstrapStackedEtcd', { args: [scenario.input], taskQueue, workflowId: scenario.name });
        if (scenario.retryWhenHeld) {
          await eventually(async () => (await handle.query<{ phase: string }>('progress')).phase === 'waiting', 30_000, 'the run to hold');
          await handle.signal('retry');
        }
        await handle.result().catch(() => undefined);
      });
      await writeHistory(env.address, scenario.name);
    }
  } finally {
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
