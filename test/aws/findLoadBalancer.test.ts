/**
 * findLoadBalancer against a real moto_server: the find-only lookup steps other than
 * ensure-load-balancer use. It creates nothing, finds what ensureLoadBalancer made, and refuses a
 * load balancer kubeha made for another cluster.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAwsActivities } from '../../activities/aws';
import type { AwsActivities } from '../../activities/types';
import { startMoto, type MotoNetwork, type MotoServer } from '../support/moto';
import { allLoadBalancers, allTargetGroups, lbInput, rejectsWithFailure } from './helpers';

describe('findLoadBalancer (moto)', () => {
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

  test('nothing there: null, and nothing is created', async () => {
    assert.equal(await aws.findLoadBalancer(lbInput(moto.settingsFor(network))), null);
    assert.equal((await allLoadBalancers(moto.clients())).length, 0);
    assert.equal((await allTargetGroups(moto.clients())).length, 0);
  });

  test('finds what ensureLoadBalancer made, reporting nothing created', async () => {
    const made = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network)));
    const found = await aws.findLoadBalancer(lbInput(moto.settingsFor(network)));
    assert.deepEqual(
      { lb: found?.loadBalancerArn, tg: found?.targetGroupArn, listener: found?.listenerArn, dns: found?.dnsName, created: found?.created },
      {
        lb: made.loadBalancerArn,
        tg: made.targetGroupArn,
        listener: made.listenerArn,
        dns: made.dnsName,
        created: { loadBalancer: false, targetGroup: false, listener: false },
      },
    );
  });

  test("another cluster's load balancer is refused, not used", async () => {
    await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network), {}, { clusterName: 'east' }));
    await rejectsWithFailure(aws.findLoadBalancer(lbInput(moto.settingsFor(network), {}, { clusterName: 'west' })), 'Conflict', false);
  });
});
