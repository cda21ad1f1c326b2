/**
 * Records FailoverToEast histories for the replay test (test/replay/replay.test.ts), with the stub world
 * of the workflow tests: a Route 53 pair moved while west's API does not answer (west's split left out,
 * caught up before failback), and the same with west answering (every path at once). Run after a
 * deliberate change of FailoverToEast, and commit the files:
 *   npm run build && node dist/test/replay/recordFailoverHistories.js
 */
import { failoverInput, failoverWorker, FakeFailoverWorld, notification, WEST } from '../failover/fakeFailoverWorld';
import { startTestTemporal } from '../support/temporal';
import { writeHistory } from './writeHistory';
import { eventually } from '../support/workflowHarness';

const gtm = {
  hostedZoneId: 'Z0EXAMPLE',
  zoneName: 'example.com',
  recordName: 'podinfo.example.com',
  ttl: 30,
  west: { values: ['10.10.0.10'] },
  east: { values: ['10.20.0.10'] },
};

const scenarios = [
  { name: 'failover-gtm-west-down', westDown: true },
  { name: 'failover-gtm-west-answers', westDown: false },
];

async function main(): Promise<void> {
  const env = await startTestTemporal();
  try {
    for (const scenario of scenarios) {
      const world = new FakeFailoverWorld();
      world.route53.seed(gtm.recordName);
      if (scenario.westDown) world.unreachable.add(WEST);
      const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
      await worker.runUntil(async () => {
        const input = failoverInput({ services: [{ namespace: 'test', name: 'podinfo', gtm, eastSplit: { name: 'podinfo-local' } }] });
        const handle = await env.client.workflow.signalWithStart('FailoverToEast', {
          args: [input],
          taskQueue,
          workflowId: scenario.name,
          signal: 'alert',
          signalArgs: [notification('firing')],
        });
        await eventually(async () => ((await handle.query<{ state: string }>('status')).state === 'failed-over' ? true : undefined), 30_000, 'failed over');
        world.unreachable.delete(WEST);
        await handle.signal('alert', notification('resolved'));
        await handle.result();
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
