/**
 * Target registration, health and waiting against a real moto_server. moto reports every
 * registered IP target `healthy`; the one state it can report for a registered target that never
 * turns healthy is `unused` (Target.InvalidState) for a stopped EC2 instance, so the "never healthy"
 * cases register a stopped instance (by its id, in an instance target group).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeImagesCommand, RunInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Info } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAwsActivities, type Clock } from '../../activities/aws';
import type { AwsActivities, LoadBalancerInfo, TargetRef, WaitTargetHealthyInput } from '../../activities/types';
import type { AwsSettings } from '../../common/inputs/shared';
import { startMoto, type MotoNetwork, type MotoServer } from '../support/moto';
import { createTgOutOfBand, lbInput, rejectsWithFailure } from './helpers';

describe('targets (moto)', () => {
  let moto: MotoServer;
  let aws: AwsActivities;
  let network: MotoNetwork;
  let settings: AwsSettings;
  let lb: LoadBalancerInfo;
  /** A target that stays `unused` for ever: a stopped instance in an instance target group. */
  let stuck: TargetRef;

  before(async () => {
    moto = await startMoto();
    aws = createAwsActivities({ clientsFor: moto.clientsFor });
    network = await moto.createNetwork();
    settings = moto.settingsFor(network);
    lb = await aws.ensureLoadBalancer(lbInput(settings));

    const { ec2, elbv2 } = moto.clients();
    const image = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
    assert.ok(image, 'moto ships AMIs');
    const run = await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, SubnetId: network.subnetIds[0] }));
    const instanceId = run.Instances?.[0]?.InstanceId ?? '';
    const tg = await createTgOutOfBand(moto.clients(), { name: 'stopped-hosts', vpcId: network.vpcId, targetType: 'instance' });
    await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: instanceId, Port: 6443 }] }));
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    stuck = { aws: settings, targetGroupArn: tg.TargetGroupArn ?? '', ip: instanceId, port: 6443 };
  });
  after(async () => {
    await moto?.stop();
  });

  /** An activity context whose logger keeps the expected failures out of the test output. */
  const quietEnv = (info: Partial<Info> = {}) => new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
  const target = (ip: string): TargetRef => ({ aws: settings, targetGroupArn: lb.targetGroupArn, ip });

  test('register acts once; the second call reports that nothing was needed', async () => {
    assert.deepEqual(await aws.registerTarget(target('10.10.1.11')), { registered: true });
    assert.deepEqual(await aws.registerTarget(target('10.10.1.11')), { registered: false });
    const rows = await aws.describeTargetHealth({ aws: settings, targetGroupArn: lb.targetGroupArn });
    assert.deepEqual(
      rows.filter((r) => r.ip === '10.10.1.11'),
      [{ ip: '10.10.1.11', port: 6443, state: 'healthy' }],
    );
  });

  test('deregister acts once, and only on a registered target', async () => {
    await aws.registerTarget(target('10.10.1.12'));
    assert.deepEqual(await aws.deregisterTarget(target('10.10.1.12')), { deregistered: true });
    assert.deepEqual(await aws.deregisterTarget(target('10.10.1.12')), { deregistered: false });
    assert.deepEqual(await aws.deregisterTarget(target('10.10.1.99')), { deregistered: false }, 'never registered');
    const rows = await aws.describeTargetHealth({ aws: settings, targetGroupArn: lb.targetGroupArn });
    assert.ok(!rows.some((r) => r.ip === '10.10.1.12'), JSON.stringify(rows));
  });

  test('describeTargetHealth maps states, reasons and descriptions', async () => {
    const rows = await aws.describeTargetHealth({ aws: settings, targetGroupArn: stuck.targetGroupArn });
    assert.deepEqual(rows, [{ ip: stuck.ip, port: 6443, state: 'unused', reason: 'Target.InvalidState', description: 'Target is in the stopped state' }]);
  });

  test('describeTargetHealth of a target group that does not exist is a Conflict pointing at ensure-load-balancer', async () => {
    const gone = lb.targetGroupArn.replace(/\/[0-9a-f]+$/, '/0000000000000000');
    const { info } = await rejectsWithFailure(aws.describeTargetHealth({ aws: settings, targetGroupArn: gone }), 'Conflict', false);
    assert.match(info.hint, /ensure-load-balancer/);
  });

  describe('waitTargetHealthy', () => {
    const waitInput = (ref: TargetRef, deadlineSeconds: number, pollSeconds = 1): WaitTargetHealthyInput => ({ ...ref, deadlineSeconds, pollSeconds });

    test('returns at once for a healthy target', async () => {
      await aws.registerTarget(target('10.10.1.21'));
      assert.deepEqual(await aws.waitTargetHealthy(waitInput(target('10.10.1.21'), 30)), { state: 'healthy', waitedSeconds: 0 });
    });

    test('an unregistered target is a Conflict: the caller must register it first', async () => {
      const { err, info } = await rejectsWithFailure(aws.waitTargetHealthy(waitInput(target('10.10.1.77'), 30)), 'Conflict', false);
      assert.match(err.message, /target 10\.10\.1\.77:6443 is not registered in target group "kh-api-api"/);
      assert.match(info.hint, /registerTarget/);
    });

    test('a target that never turns healthy fails with DeadlineExceeded and a hint for its state', async () => {
      const started = Date.now();
      const { err, info } = await rejectsWithFailure(aws.waitTargetHealthy(waitInput(stuck, 2, 1)), 'DeadlineExceeded', false);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 2000 && elapsed < 6000, `waited ${elapsed} ms for a 2 s deadline`);
      assert.equal(info.state, 'unused');
      assert.equal(info.reason, 'Target.InvalidState');
      assert.ok((info.waitedSeconds as number) >= 2);
      assert.match(err.message, /is still unused \(Target\.InvalidState: Target is in the stopped state\) after \d+ s; the deadline was 2 s/);
      assert.match(info.hint, /not attached to a listener/);
      assert.match(info.hint, /availability zone where the load balancer has no subnet/);
    });

    test('heartbeats {state, waitedSeconds} on every poll inside an activity', async () => {
      const env = quietEnv();
      const beats: { state: string; waitedSeconds: number }[] = [];
      env.on('heartbeat', (d) => beats.push(d));
      await assert.rejects(env.run(aws.waitTargetHealthy, waitInput(stuck, 3, 1)), (err: Error) => err.message.includes('deadline was 3 s'));
      assert.ok(beats.length >= 3, `${beats.length} heartbeats: ${JSON.stringify(beats)}`);
      assert.ok(beats.every((b) => b.state === 'unused'));
      assert.deepEqual(
        beats.map((b) => b.waitedSeconds),
        [...beats.map((b) => b.waitedSeconds)].sort((a, b) => a - b),
        'waitedSeconds grows',
      );
      assert.ok(beats[beats.length - 1].waitedSeconds >= 3);
    });

    test('a retried attempt resumes the clock from the last heartbeat', async () => {
      const env = quietEnv({ heartbeatDetails: { state: 'unused', waitedSeconds: 50 } });
      const started = Date.now();
      await assert.rejects(env.run(aws.waitTargetHealthy, waitInput(stuck, 50, 5)), (err: Error) => /after 50 s; the deadline was 50 s/.test(err.message));
      assert.ok(Date.now() - started < 2000, 'no new wait: the deadline had already passed');

      await aws.registerTarget(target('10.10.1.22'));
      const healthy = quietEnv({ heartbeatDetails: { state: 'initial', waitedSeconds: 7 } });
      assert.deepEqual(await healthy.run(aws.waitTargetHealthy, waitInput(target('10.10.1.22'), 60)), { state: 'healthy', waitedSeconds: 7 });
    });

    test('honours cancellation during the wait between polls', async () => {
      const env = quietEnv();
      env.once('heartbeat', () => env.cancel());
      const started = Date.now();
      await assert.rejects(env.run(aws.waitTargetHealthy, waitInput(stuck, 600, 30)), (err) => err instanceof CancelledFailure);
      assert.ok(Date.now() - started < 2000, 'the 30 s poll sleep was cut short');
    });

    test('the deadline counts time, not polls: with a jumping clock the last poll lands on the deadline', async () => {
      let now = 0;
      let sleeps = 0;
      const clock: Clock = {
        now: () => now,
        sleep: async (ms) => {
          sleeps++;
          now += ms;
        },
      };
      const jumping = createAwsActivities({ clientsFor: moto.clientsFor, clock });
      const { info } = await rejectsWithFailure(jumping.waitTargetHealthy(waitInput(stuck, 62, 5)), 'DeadlineExceeded', false);
      assert.equal(info.waitedSeconds, 62);
      assert.equal(sleeps, 13, '12 polls 5 s apart, then a 2 s sleep up to the deadline');
    });
  });
});
