/**
 * ensureLoadBalancer against a real moto_server with objects made behind kubeha's back: adopting a
 * load balancer by name and by ARN (never modified), and every contradiction that must stop the
 * step as a Conflict naming the field.
 */
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { CreateListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createAwsActivities } from '../../activities/aws';
import type { AwsActivities } from '../../activities/types';
import { loadBalancerSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { startMoto, type MotoNetwork, type MotoServer } from '../support/moto';
import {
  allLoadBalancers,
  allTargetGroups,
  createLbOutOfBand,
  createTgOutOfBand,
  lbInput,
  listenersOfLb,
  loadBalancerByArn,
  rejectsWithFailure,
  tagMap,
  targetGroupByArn,
} from './helpers';

describe('ensureLoadBalancer: adopt and conflicts (moto)', () => {
  let moto: MotoServer;
  let aws: AwsActivities;
  let network: MotoNetwork;

  before(async () => {
    moto = await startMoto();
    aws = createAwsActivities({ clientsFor: moto.clientsFor });
  });
  after(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    network = await moto.createNetwork();
  });

  /** What an adopted load balancer looks like, minus the state AWS itself moves. */
  async function snapshot(arn: string) {
    const lb = await loadBalancerByArn(moto.clients(), arn);
    delete lb.State;
    return { lb, tags: await tagMap(moto.clients(), arn) };
  }

  describe('adopt', () => {
    test('by name: adds the target group and listener, and leaves the load balancer as it was', async () => {
      const legacy = await createLbOutOfBand(moto.clients(), {
        name: 'legacy-api',
        subnetIds: network.subnetIds,
        tags: [{ Key: 'owner', Value: 'platform-team' }],
      });
      const before = await snapshot(legacy.LoadBalancerArn ?? '');

      const info = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { adopt: { name: 'legacy-api' } }));
      assert.equal(info.loadBalancerArn, legacy.LoadBalancerArn);
      assert.deepEqual(info.created, { loadBalancer: false, targetGroup: true, listener: true });
      assert.ok(
        info.notes.some((n) => n.includes('adopted') && n.includes('does not modify')),
        info.notes.join('\n'),
      );

      assert.deepEqual(await snapshot(legacy.LoadBalancerArn ?? ''), before, 'the adopted load balancer (attributes and tags) is unchanged');
      assert.equal((await tagMap(moto.clients(), info.targetGroupArn))['kubeha:cluster'], 'prod', 'what kubeha created is tagged');
      const listeners = await listenersOfLb(moto.clients(), info.loadBalancerArn);
      assert.deepEqual(
        listeners.map((l) => [l.Port, l.DefaultActions?.[0]?.TargetGroupArn]),
        [[6443, info.targetGroupArn]],
      );
      assert.equal((await allLoadBalancers(moto.clients())).length, 1, 'no second load balancer');
    });

    test('by ARN: same result, and a second run creates nothing', async () => {
      const legacy = await createLbOutOfBand(moto.clients(), { name: 'legacy-api', subnetIds: network.subnetIds });
      const before = await snapshot(legacy.LoadBalancerArn ?? '');
      // moto makes ARNs with "loadbalancer/app/" even for NLBs, which the input schema's adopt.arn rule
      // (".../loadbalancer/net/...") refuses; the activity itself takes the ARN as given.
      const input = {
        ...lbInput(moto.settingsFor(network)),
        loadBalancer: { ...loadBalancerSchema.parse({ name: 'kh-api' }), adopt: { arn: legacy.LoadBalancerArn ?? '' } },
      };
      const first = await aws.ensureLoadBalancer(input);
      assert.equal(first.loadBalancerArn, legacy.LoadBalancerArn);
      assert.deepEqual(first.created, { loadBalancer: false, targetGroup: true, listener: true });
      const second = await aws.ensureLoadBalancer(input);
      assert.deepEqual(second.created, { loadBalancer: false, targetGroup: false, listener: false });
      assert.equal(second.listenerArn, first.listenerArn);
      assert.equal(second.targetGroupArn, first.targetGroupArn);
      assert.deepEqual(await snapshot(legacy.LoadBalancerArn ?? ''), before);
    });

    test('a 6443 listener that forwards elsewhere is a Conflict whose hint names that target group; naming it adopts it', async () => {
      const legacy = await createLbOutOfBand(moto.clients(), { name: 'legacy-api', subnetIds: network.subnetIds });
      const theirs = await createTgOutOfBand(moto.clients(), { name: 'legacy-tg', vpcId: network.vpcId });
      await moto.clients().elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: legacy.LoadBalancerArn,
          Protocol: 'TCP',
          Port: 6443,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: theirs.TargetGroupArn }],
        }),
      );
      const { err, info } = await rejectsWithFailure(
        aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { adopt: { name: 'legacy-api' } })),
        'Conflict',
        false,
      );
      assert.equal(info.field, 'DefaultActions');
      assert.match(err.message, /listener on port 6443 .* has DefaultActions "forward to legacy-tg", kubeha needs "forward to target group kh-api-api"/);
      assert.match(info.hint, /set loadBalancer\.targetGroup\.name to "legacy-tg"/);
      assert.equal((await allTargetGroups(moto.clients())).length, 1, 'the conflict created nothing');

      // Following the hint: the operator's own target group is used as it is.
      const adopted = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { adopt: { name: 'legacy-api' }, targetGroup: { name: 'legacy-tg' } }));
      assert.deepEqual(adopted.created, { loadBalancer: false, targetGroup: false, listener: false });
      assert.equal(adopted.targetGroupArn, theirs.TargetGroupArn);
      assert.ok(
        adopted.notes.some((n) => n.includes('not created by kubeha')),
        adopted.notes.join('\n'),
      );
      assert.ok(
        adopted.notes.some((n) => n.includes('kubeha leaves a target group it did not create as it is')),
        'health-check drift is reported, not applied',
      );
      assert.equal((await targetGroupByArn(moto.clients(), theirs.TargetGroupArn ?? '')).HealthCheckIntervalSeconds, 30, 'their health check is untouched');
    });

    test('a load balancer that does not exist is a Conflict', async () => {
      const { err, info } = await rejectsWithFailure(
        aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { adopt: { name: 'nowhere' } })),
        'Conflict',
        false,
      );
      assert.match(err.message, /loadBalancer\.adopt names a load balancer that does not exist in us-east-1: name "nowhere"/);
      assert.equal(info.field, 'adopt');
    });

    test('an internet-facing load balancer is a Conflict on Scheme', async () => {
      await createLbOutOfBand(moto.clients(), { name: 'public-api', subnetIds: network.subnetIds, scheme: 'internet-facing' });
      const { err, info } = await rejectsWithFailure(
        aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { adopt: { name: 'public-api' } })),
        'Conflict',
        false,
      );
      assert.equal(info.field, 'Scheme');
      assert.equal(info.actual, 'internet-facing');
      assert.match(err.message, /load balancer "public-api" has Scheme "internet-facing", kubeha needs "internal"/);
      assert.match(info.hint, /Adopt another load balancer/);
    });
  });

  describe('conflicts without adopt', () => {
    test('an application load balancer with the same name: Conflict on Type, nothing created', async () => {
      await createLbOutOfBand(moto.clients(), { name: 'kh-api', subnetIds: network.subnetIds, type: 'application' });
      const { err, info } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(moto.settingsFor(network))), 'Conflict', false);
      assert.equal(info.field, 'Type');
      assert.equal(info.expected, 'network');
      assert.equal(info.actual, 'application');
      assert.match(err.message, /load balancer "kh-api" has Type "application", kubeha needs "network"/);
      assert.match(info.hint, /Choose another loadBalancer\.name/);
      assert.equal((await allTargetGroups(moto.clients())).length, 0, 'no target group left behind');
    });

    test('an internet-facing NLB with the same name: Conflict on Scheme', async () => {
      await createLbOutOfBand(moto.clients(), { name: 'kh-api', subnetIds: network.subnetIds, scheme: 'internet-facing' });
      const { info } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(moto.settingsFor(network))), 'Conflict', false);
      assert.equal(info.field, 'Scheme');
    });

    test('a target group with instance targets and the same name: Conflict on TargetType, no load balancer created', async () => {
      await createTgOutOfBand(moto.clients(), { name: 'kh-api-api', vpcId: network.vpcId, targetType: 'instance' });
      const { err, info } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(moto.settingsFor(network))), 'Conflict', false);
      assert.equal(info.field, 'TargetType');
      assert.equal(info.actual, 'instance');
      assert.match(err.message, /target group "kh-api-api" has TargetType "instance", kubeha needs "ip"/);
      assert.match(info.hint, /loadBalancer\.targetGroup\.name/);
      assert.equal((await allLoadBalancers(moto.clients())).length, 0);
    });

    test('a target group in another VPC: Conflict on VpcId', async () => {
      const other = await moto.createNetwork();
      await createTgOutOfBand(moto.clients(), { name: 'kh-api-api', vpcId: other.vpcId });
      const { info } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(moto.settingsFor(network))), 'Conflict', false);
      assert.equal(info.field, 'VpcId');
      assert.equal(info.expected, network.vpcId);
    });

    test('a load balancer kubeha made for another cluster: Conflict on the cluster tag', async () => {
      await aws.ensureLoadBalancer({ ...lbInput(moto.settingsFor(network)), clusterName: 'staging' });
      const { info } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(moto.settingsFor(network))), 'Conflict', false);
      assert.equal(info.field, 'tag kubeha:cluster');
      assert.equal(info.expected, 'prod');
      assert.equal(info.actual, 'staging');
    });

    test('a target group kubeha made for another cluster: Conflict on the cluster tag', async () => {
      await createTgOutOfBand(moto.clients(), { name: 'kh-api-api', vpcId: network.vpcId, tags: [{ Key: 'kubeha:cluster', Value: 'staging' }] });
      const { info } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(moto.settingsFor(network))), 'Conflict', false);
      assert.equal(info.field, 'tag kubeha:cluster');
      assert.equal(info.actual, 'staging');
    });

    test('a target group that already serves another load balancer: Conflict on LoadBalancerArns', async () => {
      const staging = await aws.ensureLoadBalancer({
        ...lbInput(moto.settingsFor(network), { name: 'staging-api', targetGroup: { name: 'shared-tg' } }),
        clusterName: 'staging',
      });
      const { info } = await rejectsWithFailure(
        aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { targetGroup: { name: 'shared-tg' } })),
        'Conflict',
        false,
      );
      assert.equal(info.field, 'LoadBalancerArns');
      assert.equal(info.actual, staging.loadBalancerArn);
    });

    test('an untagged load balancer with the same name is not taken over: Conflict with a hint to adopt it', async () => {
      await createLbOutOfBand(moto.clients(), { name: 'kh-api', subnetIds: network.subnetIds });
      const { info } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(moto.settingsFor(network))), 'Conflict', false);
      assert.equal(info.field, 'tag kubeha:cluster');
      assert.match(info.hint, /set loadBalancer\.adopt to \{"name": "kh-api"\}/);
    });
  });
});
