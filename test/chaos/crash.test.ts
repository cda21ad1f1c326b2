/**
 * A slice of the crash campaign (test/chaos/crash, `npm run chaos` runs all of it): kubeha's worker
 * SIGKILLed at three points of BootstrapStackedEtcd in different steps, the file-backed dev server
 * killed and restarted mid-run, and an AWS fault (QUICK_POINTS, on smaller labs than the campaign's
 * so the slice stays short); and FailoverToEast's worker killed between a Route 53 UPSERT and INSYNC. Each point runs on a fresh lab and is judged from
 * the lab's records: the run completes, `kubeadm init` ran once, each host joined once, the targets
 * are exactly the control planes, etcd's members are exactly the control planes and the spare.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openCampaign, type OpenCampaign } from './crash/campaign';
import { OTHER_POINTS, QUICK_POINTS } from './crash/points';
import { passed, runPoint, type PointResult } from './crash/runPoint';

describe('crash points of the campaign: killed worker, restarted dev server, AWS faults', { timeout: 30 * 60_000 }, () => {
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
});
