/**
 * The Route 53 activities against moto_server's Route 53: the weighted pair is created and moved in
 * one change batch, a second call with the same weights sends nothing, a half-made pair is completed,
 * records kubeha does not own are left alone (a plain record of the name is refused with a hint), a
 * hosted zone that does not exist is a non-retryable failure naming it, and bad weights are refused
 * before any call.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  ChangeResourceRecordSetsCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { ApplicationFailure } from '@temporalio/common';
import { createDnsActivities, type DnsActivities, GTM_SET_IDENTIFIERS } from '../../activities/dns/route53';
import { failureInfo } from '../../common/errors';
import { gtmRecordSchema, type GtmRecord, type Route53Settings } from '../../common/inputs/gtm';
import { MOTO_CREDENTIALS, MOTO_REGION, type MotoServer, startMoto } from '../support/moto';

describe('Route 53 weighted records (moto)', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let client: Route53Client;
  let dns: DnsActivities;
  let route53: Route53Settings;
  let record: GtmRecord;
  const sent: string[] = [];

  before(async () => {
    moto = await startMoto();
    client = new Route53Client({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    // Every command the activities send, by name: what "sends nothing" is checked against.
    const counted = new Route53Client({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    counted.middlewareStack.add((next, context) => (args) => {
      sent.push(String(context.commandName));
      return next(args);
    });
    dns = createDnsActivities({ route53: () => counted, pollIntervalMs: 50 });
    route53 = { endpoint: moto.endpoint };
  });
  after(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    sent.length = 0;
    const zone = await client.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `ref-${Date.now()}-${Math.random()}` }));
    record = gtmRecordSchema.parse({
      hostedZoneId: zone.HostedZone!.Id!.replace('/hostedzone/', ''),
      zoneName: 'example.com',
      recordName: 'podinfo.example.com',
      ttl: 30,
      west: { values: ['10.10.0.10'] },
      east: { values: ['10.20.0.10', '10.20.0.11'] },
    });
  });

  async function pair(): Promise<Record<string, { weight?: number; values: string[]; ttl?: number }>> {
    const list = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: record.hostedZoneId }));
    const sets = (list.ResourceRecordSets ?? []).filter((r) => r.Name === 'podinfo.example.com.' && r.Type === 'A');
    return Object.fromEntries(
      sets.map((r) => [r.SetIdentifier ?? '(plain)', { weight: r.Weight, values: (r.ResourceRecords ?? []).map((v) => v.Value ?? '').sort(), ttl: r.TTL }]),
    );
  }

  test('creates the pair in one change batch, waits for INSYNC, and moves it; the same weights again send nothing', async () => {
    assert.deepEqual(await dns.readGtmWeights({ route53, record }), { missing: ['west', 'east'], inShape: false });
    const first = await dns.setGtmWeights({ route53, record, weights: { west: 100, east: 0 } });
    assert.equal(first.changed, true);
    assert.deepEqual(first.before, {}, 'no records before');
    assert.match(first.changeId ?? '', /\S/);
    assert.deepEqual(sent.filter((c) => c === 'ChangeResourceRecordSetsCommand').length, 1);
    assert.ok(sent.includes('GetChangeCommand'), 'it waited for the change');
    assert.deepEqual(await pair(), {
      [GTM_SET_IDENTIFIERS.west]: { weight: 100, values: ['10.10.0.10'], ttl: 30 },
      [GTM_SET_IDENTIFIERS.east]: { weight: 0, values: ['10.20.0.10', '10.20.0.11'], ttl: 30 },
    });

    const moved = await dns.setGtmWeights({ route53, record, weights: { west: 50, east: 50 } });
    assert.deepEqual(moved.before, { west: 100, east: 0 });
    assert.deepEqual(await dns.readGtmWeights({ route53, record }), { west: 50, east: 50, missing: [], inShape: true });

    sent.length = 0;
    const again = await dns.setGtmWeights({ route53, record, weights: { west: 50, east: 50 } });
    assert.deepEqual(again, { changed: false, weights: { west: 50, east: 50 }, before: { west: 50, east: 50 } });
    assert.deepEqual(sent, ['ListResourceRecordSetsCommand'], 'read only');
  });

  test('a half-made pair (west only, another TTL) is completed and put in shape', async () => {
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: record.hostedZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'podinfo.example.com',
                Type: 'A',
                SetIdentifier: GTM_SET_IDENTIFIERS.west,
                Weight: 0,
                TTL: 300,
                ResourceRecords: [{ Value: '10.10.0.10' }],
              },
            },
          ],
        },
      }),
    );
    assert.deepEqual(await dns.readGtmWeights({ route53, record }), { west: 0, missing: ['east'], inShape: false });
    const change = await dns.setGtmWeights({ route53, record, weights: { west: 0, east: 100 } });
    assert.equal(change.changed, true, 'same weight on west, but the TTL and the missing east record differ');
    assert.deepEqual(await dns.readGtmWeights({ route53, record }), { west: 0, east: 100, missing: [], inShape: true });
  });

  test('records kubeha does not own: another set identifier is left alone; a plain record is refused with a hint', async () => {
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: record.hostedZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'podinfo.example.com',
                Type: 'A',
                SetIdentifier: 'someone-else',
                Weight: 7,
                TTL: 30,
                ResourceRecords: [{ Value: '10.30.0.1' }],
              },
            },
          ],
        },
      }),
    );
    await dns.setGtmWeights({ route53, record, weights: { west: 100, east: 0 } });
    assert.deepEqual((await pair())['someone-else'], { weight: 7, values: ['10.30.0.1'], ttl: 30 });

    await moto.reset();
    const zone = await client.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `plain-${Date.now()}` }));
    record = { ...record, hostedZoneId: zone.HostedZone!.Id!.replace('/hostedzone/', '') };
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: record.hostedZoneId,
        ChangeBatch: {
          Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: 'podinfo.example.com', Type: 'A', TTL: 30, ResourceRecords: [{ Value: '10.40.0.1' }] } }],
        },
      }),
    );
    sent.length = 0;
    const refused = await dns.setGtmWeights({ route53, record, weights: { west: 100, east: 0 } }).then(
      () => assert.fail('a plain record was replaced'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof ApplicationFailure);
    assert.equal(refused.type, 'Conflict');
    assert.match(refused.message, /is a plain record, not a weighted pair/);
    assert.deepEqual(sent, ['ListResourceRecordSetsCommand']);
    assert.deepEqual(await pair(), { '(plain)': { weight: undefined, values: ['10.40.0.1'], ttl: 30 } });
  });

  test('a hosted zone that does not exist: reading and setting fail, not retryable, naming the zone, with a hint', async () => {
    const missing = { ...record, hostedZoneId: 'ZMISSING0000' };
    for (const call of [
      () => dns.readGtmWeights({ route53, record: missing }),
      () => dns.setGtmWeights({ route53, record: missing, weights: { west: 100, east: 0 } }),
    ]) {
      sent.length = 0;
      const refused = await call().then(
        () => assert.fail('a missing zone was not noticed'),
        (err: unknown) => err,
      );
      assert.ok(refused instanceof ApplicationFailure);
      assert.equal(refused.type, 'CloudRejected');
      assert.equal(refused.nonRetryable, true);
      assert.match(refused.message, /hosted zone ZMISSING0000 \(example\.com\) does not exist: ListResourceRecordSets answered NoSuchHostedZone/);
      assert.match(failureInfo(refused)?.hint ?? '', /^check services\[\]\.gtm\.hostedZoneId/);
      assert.equal(failureInfo(refused)?.awsCode, 'NoSuchHostedZone');
      assert.deepEqual(sent, ['ListResourceRecordSetsCommand'], 'nothing sent after the read');
    }
  });

  test("an optional health check per side is set on that side's record; dropping it from the input takes it off", async () => {
    const check = await client.send(
      new CreateHealthCheckCommand({
        CallerReference: `hc-${Date.now()}`,
        HealthCheckConfig: { Type: 'HTTP', IPAddress: '10.10.0.10', Port: 8080, ResourcePath: '/', RequestInterval: 10, FailureThreshold: 2 },
      }),
    );
    const healthCheckId = check.HealthCheck!.Id!;
    const checked = gtmRecordSchema.parse({ ...record, west: { ...record.west, healthCheckId } });
    await dns.setGtmWeights({ route53, record: checked, weights: { west: 100, east: 0 } });
    const healthChecks = async () => {
      const list = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: record.hostedZoneId }));
      return Object.fromEntries(list.ResourceRecordSets!.filter((r) => r.SetIdentifier).map((r) => [r.SetIdentifier!, r.HealthCheckId ?? null]));
    };
    assert.deepEqual(await healthChecks(), { [GTM_SET_IDENTIFIERS.west]: healthCheckId, [GTM_SET_IDENTIFIERS.east]: null });
    sent.length = 0;
    assert.equal((await dns.setGtmWeights({ route53, record: checked, weights: { west: 100, east: 0 } })).changed, false);
    assert.deepEqual(sent, ['ListResourceRecordSetsCommand'], 'in shape with its health check: nothing sent');
    assert.equal((await dns.setGtmWeights({ route53, record, weights: { west: 100, east: 0 } })).changed, true, 'the input without it: out of shape');
    assert.deepEqual(await healthChecks(), { [GTM_SET_IDENTIFIERS.west]: null, [GTM_SET_IDENTIFIERS.east]: null });
  });

  test('weights outside 0..255 are refused before any call', async () => {
    sent.length = 0;
    const refused = await dns.setGtmWeights({ route53, record, weights: { west: 256, east: 0 } }).catch((err: unknown) => err);
    assert.ok(refused instanceof ApplicationFailure);
    assert.match(refused.message, /weights\.west must be a whole number from 0 to 255/);
    assert.deepEqual(sent, []);
  });
});
