/**
 * ensureLoadBalancer against a real moto_server: creation from nothing, idempotence, health-check
 * updates, VPC derivation, and dry run.
 */
import { ModifyTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createAwsActivities, isDryRunPlaceholder } from '../../activities/aws';
import type { AwsActivities } from '../../activities/types';
import { startMoto, type MotoNetwork, type MotoServer } from '../support/moto';
import { kubehaTags } from '../../activities/aws/tags';
import {
  allLoadBalancers,
  allTargetGroups,
  createTgOutOfBand,
  lbInput,
  listenersOfLb,
  loadBalancerByArn,
  rejectsWithFailure,
  tagMap,
  targetGroupByArn,
} from './helpers';

describe('ensureLoadBalancer (moto)', () => {
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

  test('creates an internal NLB, a TCP 6443 ip target group with the health check, and a forwarding listener, all tagged', async () => {
    const healthCheck = { intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 4 };
    const info = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { targetGroup: { healthCheck } }));
    assert.deepEqual(info.created, { loadBalancer: true, targetGroup: true, listener: true });

    const clients = moto.clients();
    const lb = await loadBalancerByArn(clients, info.loadBalancerArn);
    assert.equal(lb.LoadBalancerName, 'kh-api');
    assert.equal(lb.Type, 'network');
    assert.equal(lb.Scheme, 'internal');
    assert.equal(lb.VpcId, network.vpcId);
    assert.equal(lb.State?.Code, 'active');
    assert.deepEqual(lb.AvailabilityZones?.map((z) => z.SubnetId).sort(), [...network.subnetIds].sort());
    assert.equal(info.dnsName, lb.DNSName);

    const tg = await targetGroupByArn(clients, info.targetGroupArn);
    assert.equal(tg.TargetGroupName, 'kh-api-api');
    assert.equal(tg.Protocol, 'TCP');
    assert.equal(tg.Port, 6443);
    assert.equal(tg.TargetType, 'ip');
    assert.equal(tg.VpcId, network.vpcId, 'VPC derived from the first subnet (no aws.vpcId given)');
    // An API server whose etcd lost quorum answers /readyz 500: HTTPS /readyz takes it out, TCP would not.
    assert.equal(tg.HealthCheckProtocol, 'HTTPS');
    assert.equal(tg.HealthCheckPath, '/readyz');
    assert.equal(tg.HealthCheckPort, 'traffic-port');
    assert.equal(tg.Matcher?.HttpCode, '200');
    assert.equal(tg.HealthCheckIntervalSeconds, 15);
    assert.equal(tg.HealthCheckTimeoutSeconds, 5);
    assert.equal(tg.HealthyThresholdCount, 3);
    assert.equal(tg.UnhealthyThresholdCount, 4);

    const listeners = await listenersOfLb(clients, info.loadBalancerArn);
    assert.equal(listeners.length, 1);
    assert.equal(listeners[0].ListenerArn, info.listenerArn);
    assert.equal(listeners[0].Protocol, 'TCP');
    assert.equal(listeners[0].Port, 6443);
    assert.deepEqual(
      listeners[0].DefaultActions?.map((a) => [a.Type, a.TargetGroupArn]),
      [['forward', info.targetGroupArn]],
    );

    for (const arn of [info.loadBalancerArn, info.targetGroupArn, info.listenerArn]) {
      const tags = await tagMap(clients, arn);
      assert.equal(tags['kubeha:cluster'], 'prod', `cluster tag on ${arn}`);
      assert.equal(tags['kubeha:managed'], 'true', `managed tag on ${arn}`);
    }
    assert.ok(
      info.notes.some((n) => n.includes('load balancer "kh-api" created')),
      info.notes.join('\n'),
    );
    assert.ok(
      info.notes.some((n) => n.includes('target group "kh-api-api" created')),
      info.notes.join('\n'),
    );
    assert.ok(
      info.notes.some((n) => n.includes('listener TCP 6443 created')),
      info.notes.join('\n'),
    );
  });

  test('a second run creates nothing and returns the same ARNs', async () => {
    const input = lbInput(moto.settingsFor(network));
    const first = await aws.ensureLoadBalancer(input);
    const second = await aws.ensureLoadBalancer(input);
    assert.deepEqual(second.created, { loadBalancer: false, targetGroup: false, listener: false });
    assert.equal(second.loadBalancerArn, first.loadBalancerArn);
    assert.equal(second.targetGroupArn, first.targetGroupArn);
    assert.equal(second.listenerArn, first.listenerArn);
    assert.equal(second.dnsName, first.dnsName);
    assert.ok(
      second.notes.some((n) => n.includes('already there')),
      second.notes.join('\n'),
    );
    assert.ok(!second.notes.some((n) => n.includes('created')), second.notes.join('\n'));
    const clients = moto.clients();
    assert.equal((await allLoadBalancers(clients)).length, 1);
    assert.equal((await allTargetGroups(clients)).length, 1);
    assert.equal((await listenersOfLb(clients, first.loadBalancerArn)).length, 1);
  });

  test('a changed health check is applied to the target group kubeha created, without recreating anything', async () => {
    const first = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network)));
    const healthCheck = { intervalSeconds: 30, timeoutSeconds: 10, healthyThreshold: 5, unhealthyThreshold: 2 };
    const second = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { targetGroup: { healthCheck } }));
    assert.deepEqual(second.created, { loadBalancer: false, targetGroup: false, listener: false });
    assert.equal(second.targetGroupArn, first.targetGroupArn);
    const tg = await targetGroupByArn(moto.clients(), second.targetGroupArn);
    assert.equal(tg.HealthCheckIntervalSeconds, 30);
    assert.equal(tg.HealthyThresholdCount, 5);
    assert.ok(
      second.notes.some((n) => n.includes('health check updated') && n.includes('HealthCheckIntervalSeconds 10 -> 30')),
      second.notes.join('\n'),
    );
  });

  test('a TCP-checked target group kubeha made earlier is migrated to HTTPS GET /readyz in place', async () => {
    const first = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network)));
    // What an earlier kubeha created: a bare TCP check.
    await moto.clients().elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: first.targetGroupArn, HealthCheckProtocol: 'TCP' }));
    assert.equal((await targetGroupByArn(moto.clients(), first.targetGroupArn)).HealthCheckProtocol, 'TCP');
    const second = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network)));
    assert.deepEqual(second.created, { loadBalancer: false, targetGroup: false, listener: false });
    assert.equal(second.targetGroupArn, first.targetGroupArn);
    const tg = await targetGroupByArn(moto.clients(), second.targetGroupArn);
    assert.deepEqual([tg.HealthCheckProtocol, tg.HealthCheckPath, tg.Matcher?.HttpCode], ['HTTPS', '/readyz', '200']);
    assert.ok(
      second.notes.some((n) => n.includes('health check updated') && n.includes('HealthCheckProtocol TCP -> HTTPS')),
      second.notes.join('\n'),
    );
  });

  test('an explicit target group name is used, and aws.vpcId that matches the subnets is accepted', async () => {
    const settings = { ...moto.settingsFor(network), vpcId: network.vpcId };
    const info = await aws.ensureLoadBalancer(lbInput(settings, { targetGroup: { name: 'prod-apiserver' } }));
    assert.equal((await targetGroupByArn(moto.clients(), info.targetGroupArn)).TargetGroupName, 'prod-apiserver');
  });

  test('aws.vpcId that contradicts the subnets fails as InvalidInput before anything is created', async () => {
    const other = await moto.createNetwork();
    const { err } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput({ ...moto.settingsFor(network), vpcId: other.vpcId })), 'InvalidInput', false);
    assert.match(err.message, /aws\.vpcId is vpc-[0-9a-f]+ but aws\.subnetIds are in vpc-/);
    assert.equal((await allLoadBalancers(moto.clients())).length, 0);
    assert.equal((await allTargetGroups(moto.clients())).length, 0);
  });

  test('subnets of two VPCs fail as InvalidInput naming each subnet and VPC', async () => {
    const other = await moto.createNetwork();
    const settings = { ...moto.settingsFor(network), subnetIds: [network.subnetIds[0], other.subnetIds[0]] };
    const { err } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(settings)), 'InvalidInput', false);
    assert.match(err.message, /span 2 VPCs/);
    assert.ok(err.message.includes(`${other.subnetIds[0]} in ${other.vpcId}`), err.message);
  });

  test('an unknown subnet fails as InvalidInput naming aws.subnetIds', async () => {
    const settings = { ...moto.settingsFor(network), subnetIds: ['subnet-0123456789abcdef0'] };
    const { err } = await rejectsWithFailure(aws.ensureLoadBalancer(lbInput(settings)), 'InvalidInput', false);
    assert.match(err.message, /^aws\.subnetIds: .*subnet-0123456789abcdef0/);
  });

  test('dry run from nothing creates nothing and returns marked placeholders', async () => {
    const info = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), {}, { dryRun: true }));
    const clients = moto.clients();
    assert.equal((await allLoadBalancers(clients)).length, 0);
    assert.equal((await allTargetGroups(clients)).length, 0);
    for (const value of [info.loadBalancerArn, info.targetGroupArn, info.listenerArn, info.dnsName]) {
      assert.ok(isDryRunPlaceholder(value), `${value} is marked as a dry-run placeholder`);
    }
    assert.ok(info.loadBalancerArn.startsWith('dry-run:'));
    assert.deepEqual(info.created, { loadBalancer: false, targetGroup: false, listener: false });
    assert.equal(info.notes.filter((n) => n.startsWith('dry run: would create')).length, 3, info.notes.join('\n'));
    assert.ok(
      info.notes.some((n) => n.includes(`in ${network.vpcId}`)),
      'the dry run still finds the VPC',
    );
  });

  test('dry run after creation reports the real objects and nothing to do', async () => {
    const real = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network)));
    const dry = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), {}, { dryRun: true }));
    assert.equal(dry.loadBalancerArn, real.loadBalancerArn);
    assert.equal(dry.targetGroupArn, real.targetGroupArn);
    assert.equal(dry.listenerArn, real.listenerArn);
    assert.ok(!dry.notes.some((n) => n.startsWith('dry run:')), dry.notes.join('\n'));
  });

  test('dry run with a changed health check reports the update and does not apply it', async () => {
    const real = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network)));
    const healthCheck = { intervalSeconds: 30, timeoutSeconds: 10, healthyThreshold: 5, unhealthyThreshold: 2 };
    const dry = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), { targetGroup: { healthCheck } }, { dryRun: true }));
    assert.ok(
      dry.notes.some((n) => n.startsWith('dry run: would update the health check')),
      dry.notes.join('\n'),
    );
    assert.equal((await targetGroupByArn(moto.clients(), real.targetGroupArn)).HealthCheckIntervalSeconds, 10);
  });

  test('a half-built state (the target group of an earlier attempt that stopped) is completed', async () => {
    // The target group comes first; an attempt that stopped after it leaves it tagged for the cluster.
    const tg = await createTgOutOfBand(moto.clients(), { name: 'kh-api-api', vpcId: network.vpcId, tags: kubehaTags('prod') });
    const info = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network)));
    assert.deepEqual(info.created, { loadBalancer: true, targetGroup: false, listener: true });
    assert.equal(info.targetGroupArn, tg.TargetGroupArn);
  });
});
