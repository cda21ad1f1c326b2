/** The GTM record schema's rules: each bad input names its field and rule. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { failoverToEastInputSchema } from '../../common/inputs/failoverToEast';
import { gtmRecordSchema } from '../../common/inputs/gtm';
import { failoverInput } from './fakeFailoverWorld';

const good = {
  hostedZoneId: 'Z0123456789ABC',
  zoneName: 'example.com.',
  recordName: 'Podinfo.example.com',
  west: { values: ['10.0.0.1'] },
  east: { values: ['10.0.1.1'] },
};

function issue(input: unknown): { path: string; message: string } {
  const result = gtmRecordSchema.safeParse(input);
  assert.equal(result.success, false);
  const first = result.error!.issues[0]!;
  return { path: first.path.join('.'), message: first.message };
}

describe('GTM record schema', () => {
  test('a good record gets its defaults and normalised names', () => {
    const record = gtmRecordSchema.parse(good);
    assert.equal(record.recordName, 'podinfo.example.com');
    assert.equal(record.zoneName, 'example.com');
    assert.equal(record.ttl, 60);
    assert.equal(record.type, 'A');
  });
  test('missing hosted zone', () => {
    const rest: Partial<typeof good> = { ...good };
    delete rest.hostedZoneId;
    assert.equal(issue(rest).path, 'hostedZoneId');
  });
  test('TTL out of range', () => {
    assert.deepEqual(issue({ ...good, ttl: 90_000 }), { path: 'ttl', message: 'must be at most 86400 seconds' });
    assert.equal(issue({ ...good, ttl: -1 }).path, 'ttl');
  });
  test('a target equal for west and east', () => {
    assert.equal(issue({ ...good, east: { values: ['10.0.0.1'] } }).path, 'east.values');
  });
  test('a record name outside the zone', () => {
    assert.deepEqual(issue({ ...good, recordName: 'podinfo.example.org' }), { path: 'recordName', message: 'must be inside the hosted zone (zoneName)' });
    assert.equal(issue({ ...good, recordName: 'badexample.com' }).path, 'recordName');
  });

  test('the failover input takes a GTM record per service and Route 53 settings; without them nothing changes', () => {
    const input = { ...failoverInput(), route53: { endpoint: 'http://127.0.0.1:5000' } };
    (input.services as Array<Record<string, unknown>>)[0].gtm = good;
    const parsed = failoverToEastInputSchema.parse(input);
    assert.equal(parsed.services[0].gtm?.recordName, 'podinfo.example.com');
    assert.deepEqual(parsed.route53, { endpoint: 'http://127.0.0.1:5000' });
    assert.deepEqual(failoverToEastInputSchema.parse(failoverInput()).route53, {});
    assert.equal(failoverToEastInputSchema.parse(failoverInput()).services[0].gtm, undefined);
  });
});
