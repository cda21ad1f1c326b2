/**
 * The lab's Route 53 data plane answers from moto's records, as Route 53's name servers would: the
 * weighted pair kubeha's Route 53 activity writes answers with one side per query in proportion to the
 * weights (all zero: both alike), a weight change shows within the refresh time, a missing name in the
 * zone is NXDOMAIN and a name outside every zone is refused. Queries go through Node's own resolver.
 */
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, test } from 'node:test';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { createDnsActivities } from '../../../activities/dns/route53';
import { gtmRecordSchema, type GtmRecord, type Route53Settings } from '../../../common/inputs/gtm';
import { startLabDns, pickWeighted, type LabDns } from '../../../lab/aws/dnsPlane';
import { freePort } from '../../../lib/freePort';
import { MOTO_CREDENTIALS, MOTO_REGION, type MotoServer, startMoto } from '../../support/moto';

describe('lab DNS data plane over moto Route 53', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let labDns: LabDns;
  let resolver: Resolver;
  let record: GtmRecord;
  let route53: Route53Settings;
  const dns = createDnsActivities({ pollIntervalMs: 50 });
  // Alternating dice: a 50/50 pair answers west, east, west, east...
  let roll = 0;
  const dice = () => [0.25, 0.75][roll++ % 2];

  before(async () => {
    moto = await startMoto();
    const api = new Route53Client({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    const zone = await api.send(new CreateHostedZoneCommand({ Name: 'lab.example', CallerReference: `dns-${Date.now()}` }));
    api.destroy();
    record = gtmRecordSchema.parse({
      hostedZoneId: zone.HostedZone!.Id!,
      zoneName: 'lab.example',
      recordName: 'podinfo.lab.example',
      ttl: 5,
      west: { values: ['127.0.10.200'] },
      east: { values: ['127.0.20.200'] },
    });
    route53 = { endpoint: moto.endpoint };
    process.env.AWS_ACCESS_KEY_ID ??= MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= MOTO_CREDENTIALS.secretAccessKey;
    labDns = await startLabDns({ motoEndpoint: moto.endpoint, address: '127.0.0.1', port: await freePort(), refreshMs: 200, random: dice });
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${labDns.port}`]);
  });
  after(async () => {
    await labDns?.close();
    await moto?.stop();
  });

  async function answers(n: number): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) for (const address of await resolver.resolve4(record.recordName)) seen[address] = (seen[address] ?? 0) + 1;
    return seen;
  }
  const settle = () => new Promise((r) => setTimeout(r, 300));

  test('all weight on west: every answer is west; moved to east, every answer is east', async () => {
    await dns.setGtmWeights({ route53, record, weights: { west: 100, east: 0 } });
    await settle();
    assert.deepEqual(await answers(10), { '127.0.10.200': 10 });
    await dns.setGtmWeights({ route53, record, weights: { west: 0, east: 100 } });
    await settle();
    assert.deepEqual(await answers(10), { '127.0.20.200': 10 });
  });

  test('50/50 answers both sides in proportion; 0/0 answers both alike', async () => {
    await dns.setGtmWeights({ route53, record, weights: { west: 50, east: 50 } });
    await settle();
    assert.deepEqual(await answers(10), { '127.0.10.200': 5, '127.0.20.200': 5 });
    await dns.setGtmWeights({ route53, record, weights: { west: 0, east: 0 } });
    await settle();
    assert.deepEqual(await answers(10), { '127.0.10.200': 5, '127.0.20.200': 5 });
  });

  test('a missing name in the zone is NXDOMAIN; a name in no zone is refused', async () => {
    await assert.rejects(resolver.resolve4('nothing.lab.example'), (err: NodeJS.ErrnoException) => err.code === 'ENOTFOUND');
    await assert.rejects(resolver.resolve4('example.org'), (err: NodeJS.ErrnoException) => err.code === 'EREFUSED');
    assert.ok((labDns.answered()['podinfo.lab.example'] ?? 0) >= 40);
  });

  test('a 25/50/100 shift: at each step the answered shares follow the weights (800 queries, within 8 points: over 4.5 standard deviations)', async () => {
    // Route 53's own dice here (Math.random): what a client population sees, not a scripted sequence.
    const fair = await startLabDns({ motoEndpoint: moto.endpoint, address: '127.0.0.1', port: await freePort(), refreshMs: 200 });
    const client = new Resolver({ timeout: 2000, tries: 1 });
    client.setServers([`127.0.0.1:${fair.port}`]);
    try {
      const n = 800;
      for (const east of [25, 50, 100]) {
        await dns.setGtmWeights({ route53, record, weights: { west: 100 - east, east } });
        await settle();
        let toEast = 0;
        for (let i = 0; i < n; i++) if ((await client.resolve4(record.recordName))[0] === '127.0.20.200') toEast += 1;
        const share = (toEast / n) * 100;
        assert.ok(Math.abs(share - east) <= 8, `at east ${east}%, ${share.toFixed(1)}% of ${n} answers were east`);
        if (east === 100) assert.equal(toEast, n, 'all weight on east: every answer is east');
      }
    } finally {
      await fair.close();
    }
  });

  test('the weighted pick follows the weights over many rolls', () => {
    const sets = [
      { Name: 'x.', Type: 'A' as const, SetIdentifier: 'w', Weight: 30 },
      { Name: 'x.', Type: 'A' as const, SetIdentifier: 'e', Weight: 70 },
    ];
    const counts: Record<string, number> = { w: 0, e: 0 };
    for (let i = 0; i < 1000; i++) counts[pickWeighted(sets, () => i / 1000).SetIdentifier!] += 1;
    assert.deepEqual(counts, { w: 300, e: 700 });
  });
});
