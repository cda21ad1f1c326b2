/**
 * FailoverToEast with global traffic management (stubbed activities, real Temporal): the precheck asks
 * east and Route 53 only; when west's API does not answer, Route 53 carries the shift and west's split is
 * left out with the reason; when west answers, DNS and both splits move together; west's split catches
 * up before the failback; a missing record or zone refuses before anything changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FailoverStatus, FailoverToEastInput } from '../../common/inputs/failoverToEast';
import type { Progress } from '../../common/progress';
import type { FailoverResult } from '../../workflows/failover';
import { startTestTemporal } from '../support/temporal';
import { newId, startFiringOn, untilState as untilStateOf } from './workflowRuns';
import { failoverInput, failoverWorker, FakeFailoverWorld, notification, WEST } from './fakeFailoverWorld';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

const RECORD = 'podinfo.example.com';
const gtm = {
  hostedZoneId: 'Z0EXAMPLE',
  zoneName: 'example.com',
  recordName: RECORD,
  ttl: 30,
  west: { values: ['10.10.0.10'] },
  east: { values: ['10.20.0.10'] },
};

function gtmInput(service: Partial<FailoverToEastInput['services'][number]> = {}): FailoverToEastInput {
  return failoverInput({ services: [{ namespace: 'test', name: 'podinfo', gtm, ...service }], route53: { endpoint: 'http://127.0.0.1:1' } });
}

const startFiring = (input: FailoverToEastInput, taskQueue: string) => startFiringOn(env.client, input, taskQueue, newId('gtm'));
const untilState = (handle: WorkflowHandle, state: FailoverStatus['state']) => untilStateOf(handle, state, 30_000);

/** The world's activities, counting every call that names west's kubeconfig. */
function countingWest(world: FakeFailoverWorld): { activities: object; westCalls: string[] } {
  const westCalls: string[] = [];
  const activities = Object.fromEntries(
    Object.entries(world.allActivities()).map(([name, fn]) => [
      name,
      async (input: { kubeconfigSecret?: string }) => {
        if (input?.kubeconfigSecret === WEST) westCalls.push(name);
        return (fn as (i: unknown) => Promise<unknown>)(input);
      },
    ]),
  );
  return { activities, westCalls };
}

describe('FailoverToEast with Route 53', { timeout: 180_000 }, () => {
  test("west's API does not answer: Route 53 carries the shift, west's split is left out with the reason, and catches up before failback", async () => {
    const world = new FakeFailoverWorld();
    world.route53.seed(RECORD);
    world.unreachable.add(WEST);
    const { activities, westCalls } = countingWest(world);
    const { worker, taskQueue } = await failoverWorker(env, activities);
    await worker.runUntil(async () => {
      const handle = await startFiring(gtmInput(), taskQueue);
      const held = await untilState(handle, 'failed-over');
      assert.deepEqual(world.route53.requests, [`${RECORD}: 50/50`, `${RECORD}: 0/100`]);
      assert.deepEqual(world.route53.records.get(RECORD), { west: 0, east: 100 });
      assert.deepEqual(world.shiftRequests, [], "west's split was never written");
      // West was asked once (the mirror check, two quick attempts), never in the precheck, never waited on.
      assert.ok(westCalls.length <= 2 && westCalls.every((c) => c === 'serviceReadiness'), westCalls.join());
      assert.equal(Object.keys(held)[0], 'traffic', 'the traffic is the first thing the status shows');
      assert.deepEqual(held.traffic['test/podinfo'].dns && { west: held.traffic['test/podinfo'].dns.west, east: held.traffic['test/podinfo'].dns.east }, {
        west: 0,
        east: 100,
      });
      assert.match(
        held.traffic['test/podinfo'].westSplit?.skipped ?? '',
        /west's API does not answer \(.*unreachable.*\); its in-mesh clients went down with it/,
      );
      assert.equal(held.decisions.filter((d) => d.what === 'MeshSplitSkipped').length, 1);
      assert.deepEqual(held.eastPercent, { 'test/podinfo': 100 });
      const progress = await handle.query<Progress>('progress');
      assert.equal(Object.keys(progress).indexOf('headline'), 2, 'the headline comes right after the workflow and subject');
      assert.match(progress.headline?.[0] ?? '', /^test\/podinfo: DNS podinfo\.example\.com A west 0 \/ east 100 · west's split left out/);
      // West comes back; the alert resolves: west's split catches up to the DNS weights, then both move back.
      world.unreachable.delete(WEST);
      await handle.signal('alert', notification('resolved'));
      const result = (await handle.result()) as FailoverResult;
      assert.equal(result.outcome, 'failed-back');
      assert.deepEqual(world.shiftRequests, [100, 50, 0], "west's split caught up to 100 before the failback's steps");
      assert.deepEqual(world.route53.requests.slice(2), [`${RECORD}: 50/50`, `${RECORD}: 100/0`]);
      assert.deepEqual(world.route53.records.get(RECORD), { west: 100, east: 0 });
      const done = await handle.query<FailoverStatus>('status');
      const order = done.decisions.map((d) => d.what);
      assert.ok(
        order.indexOf('MeshSplitCaughtUp') > order.indexOf('FailingBack') && order.indexOf('MeshSplitCaughtUp') < order.lastIndexOf('Shifted'),
        order.join(),
      );
      assert.equal(done.traffic['test/podinfo'].westSplit?.skipped, undefined);
    });
  });

  test("west answers: DNS, west's split and east's own split move together at every step, a step after the one before", async () => {
    const world = new FakeFailoverWorld();
    world.route53.seed(RECORD);
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    await worker.runUntil(async () => {
      const handle = await startFiring(gtmInput({ eastSplit: { name: 'podinfo-local' } }), taskQueue);
      const held = await untilState(handle, 'failed-over');
      assert.deepEqual(world.route53.requests, [`${RECORD}: 50/50`, `${RECORD}: 0/100`]);
      // Per step, every path at once: both splits at 50, then both at 100.
      assert.deepEqual(world.shiftRequests, [50, 50, 100, 100]);
      assert.ok(world.route53.requestTimes[1] < world.shiftTimes[2], 'the second DNS step came after the first split step');
      assert.deepEqual(world.splits.get('test/podinfo-local'), { west: 0, east: 100 });
      assert.deepEqual(world.splits.get('test/podinfo'), { west: 0, east: 100 });
      assert.deepEqual(held.traffic['test/podinfo'].westSplit, { eastPercent: 100 });
      assert.deepEqual(held.traffic['test/podinfo'].eastSplit, { eastPercent: 100 });
      assert.equal(held.decisions.filter((d) => d.what === 'MeshSplitSkipped').length, 0);
      await handle.signal('alert', notification('resolved'));
      await handle.result();
      assert.deepEqual(world.route53.records.get(RECORD), { west: 100, east: 0 });
      assert.deepEqual(world.splits.get('test/podinfo-local'), { west: 100, east: 0 });
      assert.deepEqual(world.splits.get('test/podinfo'), { west: 100, east: 0 });
    });
  });

  test('a missing record pair or hosted zone refuses in the precheck, with what to do, and nothing changes', async () => {
    for (const missing of ['record', 'zone'] as const) {
      const world = new FakeFailoverWorld();
      if (missing === 'zone') {
        world.route53.seed(RECORD);
        world.route53.missingZones.add(gtm.hostedZoneId);
      }
      const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
      const result = (await worker.runUntil(async () => (await startFiring(gtmInput(), taskQueue)).result())) as FailoverResult;
      assert.equal(result.outcome, 'refused', missing);
      assert.match(
        result.reasons.join('\n'),
        missing === 'record'
          ? /dns podinfo\.example\.com A: no weighted record kubeha-west and kubeha-east in zone example\.com \(Z0EXAMPLE\): create the pair/
          : /dns podinfo\.example\.com A: .*hosted zone Z0EXAMPLE does not exist/,
      );
      assert.deepEqual(world.route53.requests, [], `${missing}: no weight change`);
      assert.deepEqual(world.shiftRequests, [], `${missing}: no split change`);
    }
  });

  test('west down and a service with neither a record nor an east split: the step fails naming the service, with a hint', async () => {
    const world = new FakeFailoverWorld();
    world.route53.seed(RECORD);
    world.unreachable.add(WEST);
    const input = failoverInput({
      services: [
        { namespace: 'test', name: 'podinfo', gtm },
        { namespace: 'test', name: 'billing' },
      ],
    });
    const { worker, taskQueue } = await failoverWorker(env, world.allActivities());
    const failure = await worker.runUntil(async () =>
      (await startFiring(input, taskQueue)).result().then(
        () => assert.fail('the run should fail'),
        (err: unknown) => err as WorkflowFailedError,
      ),
    );
    assert.match(
      String(failure.cause?.message),
      /step shift-traffic failed: Unreachable: test\/billing has neither a Route 53 record nor an east split, and west's API does not answer/,
    );
    assert.deepEqual(world.shiftRequests, []);
    assert.deepEqual(world.route53.requests, [`${RECORD}: 50/50`], 'the service with a record moved its first step');
  });
});
