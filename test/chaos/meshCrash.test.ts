/**
 * A slice of the crash campaign's LinkMeshClusters points (test/chaos/crash, `npm run chaos -- --mesh`
 * runs all of them): kubeha's worker SIGKILLed once the trust anchor is in the secret store but not yet
 * installed, and once the Link is applied on west but not yet checked (MESH_QUICK_POINTS). Each runs on
 * a fresh west/east pair of API servers and is judged from the pair and the store: the run completes,
 * the store holds one anchor (the one made before the kill) and both clusters trust exactly it, west
 * holds one Link and one credentials Secret, the mirror points at east's gateway, the split is there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openCampaign, type OpenCampaign } from './crash/campaign';
import { MESH_QUICK_POINTS } from './crash/points';
import { passed, runPoint, type PointResult } from './crash/runPoint';

describe('LinkMeshClusters crash points: killed worker, one anchor, one Link', { timeout: 10 * 60_000 }, () => {
  let campaign: OpenCampaign;
  const rows: PointResult[] = [];

  before(async () => {
    campaign = await openCampaign('west');
  });

  after(async () => {
    await campaign?.close();
    for (const r of rows)
      process.stdout.write(`# crash ${r.point}: held ${r.inFlight ?? '-'}, resumed after ${r.resumeMs ?? '-'} ms (${r.bound ?? '-'}), run ${r.ms} ms\n`);
  });

  test('the quick slice has a trust point and a link point', () => {
    assert.deepEqual(
      MESH_QUICK_POINTS.map((p) => p.name),
      ['mesh-trust-anchor', 'mesh-link-applied'],
    );
  });

  for (const point of MESH_QUICK_POINTS) {
    test(`${point.name}: the run completes with one anchor, one Link, one credentials Secret and the mirror`, async () => {
      const row = await runPoint(campaign.context, point);
      rows.push(row);
      assert.deepEqual(row.problems, [], `${point.name}: ${row.notes.join(' / ')}`);
      assert.equal(row.completed, true);
      assert.equal(row.duplicates, 0);
      assert.ok(row.resumeMs !== undefined && row.workerReadyMs !== undefined, 'the resume was measured');
      assert.ok(
        row.notes.some((n) => n.startsWith('anchor at the kill ')),
        `the anchor was stored before the kill: ${row.notes.join(' / ')}`,
      );
      assert.ok(passed(row));
    });
  }
});
