/**
 * withLiveness: every activity heartbeats while it runs, repeating what it last reported, so the
 * workflows' 10 s heartbeat timeouts never end a live activity and a dead worker's activity moves on
 * within seconds. Inside the SDK's MockActivityEnvironment, which records each heartbeat.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeat, lastHeartbeatDetails, LIVENESS, withLiveness } from '../../activities/activityContext';
import { createActivities } from '../../activities';

describe('withLiveness', () => {
  test('a silent activity heartbeats every interval while it runs, and stops when it ends', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d ?? 'none'));
    const { slow } = withLiveness({ slow: async () => sleep(550).then(() => 'done') }, 100);
    assert.equal(await env.run(slow), 'done');
    assert.ok(beats.length >= 4 && beats.length <= 6, `${beats.length} heartbeats in 550 ms at 100 ms`);
    const after = beats.length;
    await sleep(300);
    assert.equal(beats.length, after, 'no heartbeat after the activity ended');
  });

  test('the ticker repeats the details the activity last reported, never blanking them', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const { reporting } = withLiveness(
      {
        reporting: async () => {
          heartbeat({ step: 1 });
          await sleep(250);
          heartbeat({ step: 2 });
          await sleep(250);
        },
      },
      100,
    );
    await env.run(reporting);
    const ticks = beats.filter((b) => b === undefined);
    assert.deepEqual(ticks, [], 'no heartbeat without details once the activity reported some');
    assert.deepEqual(beats.at(-1), { step: 2 });
    assert.ok(beats.filter((b) => JSON.stringify(b) === '{"step":1}').length >= 2, 'step 1 repeated by the ticker');
  });

  test('before its first report, a retried activity keeps the details of the attempt before it', async () => {
    const env = new MockActivityEnvironment({ heartbeatDetails: { resumeFrom: 'cp-2' }, attempt: 2 });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const { resuming } = withLiveness(
      {
        resuming: async () => {
          await sleep(250);
          return lastHeartbeatDetails();
        },
      },
      100,
    );
    assert.deepEqual(await env.run(resuming), { resumeFrom: 'cp-2' });
    assert.ok(beats.length >= 2);
    for (const b of beats) assert.deepEqual(b, { resumeFrom: 'cp-2' });
  });

  test("the worker's real activities are all wrapped", async () => {
    const activities = createActivities() as unknown as Record<string, Record<symbol, unknown>>;
    const names = Object.keys(activities);
    assert.ok(names.length > 20, `${names.length} activities`);
    assert.deepEqual(
      names.filter((name) => activities[name][LIVENESS] !== true),
      [],
    );
  });
});
