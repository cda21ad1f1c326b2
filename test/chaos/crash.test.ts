/**
 * A slice of the crash campaign (test/chaos/crash, `npm run chaos` runs all of it): kubeha's worker
 * SIGKILLed at three points of BootstrapStackedEtcd in different steps, the file-backed dev server
 * killed and restarted mid-run, and an AWS fault (QUICK_POINTS, on smaller labs than the campaign's
 * so the slice stays short); and FailoverToEast's worker killed between a Route 53 UPSERT and INSYNC. Each point runs on a fresh lab and is judged from
 * the lab's records: the run completes, `kubeadm init` ran once, each host joined once, the targets
 * are exactly the control planes, etcd's members are exactly the control planes and the spare.
 *
 * In the same campaign (one workflow bundle, one dev server), LinkMeshClusters' worker SIGKILLed once the
 * trust anchor is in the secret store but not yet installed, and once the Link is applied on west but not
 * yet checked (MESH_QUICK_POINTS), each on a fresh west/east pair of API servers: the run completes, the
 * store holds one anchor (the one made before the kill) and both clusters trust exactly it, west holds
 * one Link and one credentials Secret, the mirror points at east's gateway, the split is there.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openCampaign, type OpenCampaign } from './crash/campaign';
import { MESH_QUICK_POINTS, OTHER_POINTS, QUICK_POINTS } from './crash/points';
import { passed, runPoint, type PointResult } from './crash/runPoint';

describe('crash points of the campaign: killed worker, restarted dev server, AWS faults, LinkMeshClusters', { timeout: 40 * 60_000 }, () => {
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

  for (const point of QUICK_POINTS) {
    test(`${point.name}: the run completes with nothing done twice`, async () => {
      const row = await runPoint(campaign.context, point);
      rows.push(row);
      assert.deepEqual(row.problems, [], `${point.name}: ${row.notes.join(' / ')}`);
      assert.equal(row.completed, true);
      assert.equal(row.duplicates, 0);
      assert.equal(row.inits, 1, 'kubeadm init ran once on the primary');
      assert.match(row.joins ?? '', /^((\S+=1 ?)+)?$/, `each host joined once: ${row.joins}`);
      if (point.kind === 'kill') assert.ok(row.resumeMs !== undefined && row.workerReadyMs !== undefined, 'the resume was measured');
      assert.ok(passed(row));
    });
  }

  test('failover-dns-pending: killed between a Route 53 UPSERT and INSYNC, the replacement waits for that change and sends each change once', async () => {
    const point = OTHER_POINTS.find((p) => p.kind === 'failover-dns');
    assert.ok(point);
    const row = await runPoint(campaign.context, point);
    rows.push(row);
    assert.deepEqual(row.problems, [], `${point.name}: ${row.notes.join(' / ')}`);
    assert.equal(row.completed, true);
    assert.equal(row.inFlight, 'setGtmWeights #1', 'the kill hit the weight change in flight');
    assert.equal(row.duplicates, 0);
    assert.ok(passed(row));
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
