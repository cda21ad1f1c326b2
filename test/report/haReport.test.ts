/**
 * The HA report against etcd's quorum table (1 to 7 voters, as the etcd FAQ gives it) and against zone
 * layouts: three zones of one, 2+1, 3+1 with a spare, every voter in one zone, no zones; plus the
 * availability model and `kubeha report` itself.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { failuresTolerated, haReport, quorumOf, type HaTopology } from '../../common/haReport';
import { projectRoot } from '../../lib/paths';
import { runCli } from '../client/cliProcess';

type Role = 'control-plane' | 'spare-control-plane' | 'worker';
const host = (name: string, role: Role, zone?: string) => ({ name, role, zone });
const topology = (hosts: HaTopology['hosts'], extra: Partial<HaTopology> = {}): HaTopology => ({
  clusterName: 'west',
  hosts,
  healthCheck: { intervalSeconds: 10, unhealthyThreshold: 2 },
  ...extra,
});

describe('quorum', () => {
  test("matches etcd's table for 1 to 7 voters", () => {
    // voters → [quorum, failures tolerated], from the etcd FAQ.
    const table: Record<number, [number, number]> = { 1: [1, 0], 2: [2, 0], 3: [2, 1], 4: [3, 1], 5: [3, 2], 6: [4, 2], 7: [4, 3] };
    for (const [voters, [quorum, tolerated]] of Object.entries(table).map(([v, t]) => [Number(v), t] as const)) {
      assert.equal(quorumOf(voters), quorum, `quorum of ${voters}`);
      assert.equal(failuresTolerated(voters), tolerated, `tolerance of ${voters}`);
      const hosts = Array.from({ length: voters }, (_, i) => host(`cp-${i + 1}`, 'control-plane', `z${i + 1}`));
      const report = haReport(topology(hosts));
      assert.deepEqual([report.voters, report.quorum, report.failuresTolerated], [voters, quorum, tolerated]);
      assert.equal(
        report.warnings.some((w) => /an even count/.test(w)),
        voters > 1 && voters % 2 === 0,
        `even-count warning for ${voters}`,
      );
    }
  });
});

describe('zone layouts', () => {
  test('three zones of one: each zone can go, the API stays, nothing to do', () => {
    const report = haReport(topology([host('cp-1', 'control-plane', 'a'), host('cp-2', 'control-plane', 'b'), host('cp-3', 'control-plane', 'c')]));
    assert.deepEqual(
      report.zones.map((z) => [z.zone, z.keepsQuorum, z.apiServed, z.recovery]),
      [
        ['a', true, true, 'none-needed'],
        ['b', true, true, 'none-needed'],
        ['c', true, true, 'none-needed'],
      ],
    );
    assert.match(report.zones[0].downtime, /up to 20 s/);
    assert.equal(report.model.level, 3);
    assert.deepEqual(report.warnings, []);
  });

  test('2+1: losing the pair loses quorum and recovers from the survivor; losing the single keeps it', () => {
    const report = haReport(topology([host('cp-1', 'control-plane', 'a'), host('cp-2', 'control-plane', 'a'), host('cp-3', 'control-plane', 'b')]));
    const [a, b] = report.zones;
    assert.deepEqual(
      [a.zone, a.votersLost, a.votersLeft, a.keepsQuorum, a.apiServed, a.recovery, a.restoreFrom],
      ['a', 2, 1, false, false, 'survivor', 'cp-3'],
    );
    assert.deepEqual([b.zone, b.keepsQuorum, b.apiServed, b.recovery], ['b', true, true, 'none-needed']);
    assert.ok(report.warnings.some((w) => /losing zone a loses etcd quorum \(1 of 3 voters left, 2 needed\)/.test(w)));
  });

  test("3+1 with a spare (the seed's layout): zone a takes quorum with it; the spare adds a vote, no tolerance", () => {
    const report = haReport(
      topology([
        host('cp-1', 'control-plane', 'a'),
        host('cp-2', 'control-plane', 'a'),
        host('cp-3', 'control-plane', 'a'),
        host('spare-1', 'spare-control-plane', 'b'),
        host('w-1', 'worker', 'b'),
      ]),
    );
    assert.deepEqual([report.voters, report.quorum, report.failuresTolerated, report.spares, report.workers], [4, 3, 1, 1, 1]);
    const [a, b] = report.zones;
    assert.deepEqual([a.keepsQuorum, a.apiServed, a.recovery, a.restoreFrom], [false, false, 'survivor', 'spare-1']);
    assert.deepEqual([b.keepsQuorum, b.apiServed, b.recovery, b.downtime], [true, true, 'none-needed', 'none']);
    assert.ok(report.warnings.some((w) => /4 etcd voters: an even count/.test(w)));
    assert.ok(report.warnings.some((w) => /spare-1 add a vote but no tolerance \(1 failure\(s\) with or without them\)/.test(w)));
  });

  test('registered control planes gone but quorum kept: the spare must be registered', () => {
    const report = haReport(
      topology([host('cp-1', 'control-plane', 'a'), host('spare-1', 'spare-control-plane', 'b'), host('spare-2', 'spare-control-plane', 'c')]),
    );
    const a = report.zones.find((z) => z.zone === 'a');
    assert.deepEqual([a?.keepsQuorum, a?.apiServed, a?.recovery, a?.restoreFrom], [true, false, 'register-spare', 'spare-1']);
  });

  test('every voter in one zone: only a snapshot brings it back, and without snapshots everything is lost', () => {
    const hosts = [host('cp-1', 'control-plane', 'a'), host('cp-2', 'control-plane', 'a'), host('cp-3', 'control-plane', 'a'), host('w-1', 'worker', 'b')];
    const none = haReport(topology(hosts)).zones.find((z) => z.zone === 'a');
    assert.deepEqual([none?.recovery, none?.dataLoss], ['snapshot', 'everything: no etcd snapshots are scheduled']);
    const hourly = haReport(topology(hosts, { snapshotEvery: '1h' })).zones.find((z) => z.zone === 'a');
    assert.match(hourly?.dataLoss ?? '', /up to 1h/);
    assert.equal(haReport(topology(hosts)).model.level, 2, 'every control plane in one zone');
  });

  test('no zones given: warned, one unknown zone, model 2; a failover pair makes it model 4; one control plane is model 1', () => {
    const plain = haReport(topology([host('cp-1', 'control-plane'), host('cp-2', 'control-plane'), host('cp-3', 'control-plane')]));
    assert.deepEqual(
      plain.zones.map((z) => z.zone),
      ['(no zone)'],
    );
    assert.ok(plain.warnings.some((w) => /cp-1, cp-2, cp-3 have no zone/.test(w)));
    assert.equal(plain.model.level, 2);
    assert.equal(haReport(topology([host('cp-1', 'control-plane', 'a')], { failoverTo: 'east' })).model.level, 4);
    assert.equal(haReport(topology([host('cp-1', 'control-plane', 'a')])).model.level, 1);
  });
});

describe('the Linkerd issuer in the report', () => {
  const hosts = [host('cp-1', 'control-plane', 'a'), host('cp-2', 'control-plane', 'b'), host('cp-3', 'control-plane', 'c')];
  const due = {
    found: true,
    notAfter: '2027-01-20T10:00:00.000Z',
    daysLeft: 45,
    due: true,
    warning: 'west: the Linkerd issuer expires at 2027-01-20T10:00:00.000Z (in 45 days, within 60)',
    renewable: true,
  };

  test('due and renewable: a warning naming the cluster, the date and the renewal', () => {
    const report = haReport(topology(hosts, { linkerdIssuer: due }));
    assert.deepEqual(report.warnings, [
      "west: the Linkerd issuer expires at 2027-01-20T10:00:00.000Z (in 45 days, within 60): RotateCertificateKey with meshIssuer renews it from the pair's anchor and restarts linkerd-identity",
    ]);
    assert.deepEqual(report.linkerdIssuer, due);
  });

  test('adopted trust: the warning says why kubeha cannot renew; far from expiry or not asked: no warning', () => {
    const adopted = { ...due, renewable: false, notRenewableReason: 'the trust of mesh pair "west-east" was adopted' };
    assert.match(
      haReport(topology(hosts, { linkerdIssuer: adopted })).warnings[0],
      /within 60\): kubeha cannot renew it: the trust of mesh pair "west-east" was adopted$/,
    );
    const far = { found: true, notAfter: '2027-11-20T10:00:00.000Z', daysLeft: 349, due: false, renewable: true };
    assert.deepEqual(haReport(topology(hosts, { linkerdIssuer: far })).warnings, []);
    assert.equal(haReport(topology(hosts)).linkerdIssuer, undefined);
  });
});

describe('kubeha report', () => {
  test('text and JSON for a zoned bootstrap input; a bad zone is refused naming the field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kubeha-report-'));
    const input = JSON.parse(readFileSync(path.join(projectRoot, 'examples', 'bootstrap-stacked-etcd.json'), 'utf8')) as {
      hosts: Array<{ name: string; role: string; zone?: string }>;
    };
    for (const h of input.hosts) h.zone = h.role === 'spare-control-plane' ? 'us-east-1b' : 'us-east-1a';
    const file = path.join(dir, 'zoned.json');
    writeFileSync(file, JSON.stringify(input));
    const text = await runCli(['report', '-f', file, '--snapshot-every', '1h']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^HA report of cluster prod-a$/m);
    assert.match(
      text.stdout,
      /us-east-1a \(cp-1, cp-2, cp-3, worker-1, worker-2\): 3 voter\(s\) lost, 1 left;\n {6}quorum LOST; API DOWN; restore etcd from survivor cp-spare-1/,
    );
    for (const line of text.stdout.split('\n')) assert.ok(line.length <= 80, line);
    const json = await runCli(['report', '-f', file, '--json']);
    const report = JSON.parse(json.stdout) as { voters: number; zones: Array<{ zone: string; recovery: string }> };
    assert.equal(report.voters, 4);
    assert.deepEqual(
      report.zones.map((z) => [z.zone, z.recovery]),
      [
        ['us-east-1a', 'survivor'],
        ['us-east-1b', 'none-needed'],
      ],
    );

    input.hosts[0].zone = 'US East 1a';
    writeFileSync(file, JSON.stringify(input));
    const bad = await runCli(['report', '-f', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /hosts\[0\]\.zone: must be a zone name/);

    input.hosts[0].zone = 'us-east-1a';
    writeFileSync(file, JSON.stringify(input));
    const side = await runCli(['report', '-f', file, '--mesh-issuer', 'west-east/north']);
    assert.equal(side.code, 2);
    assert.match(side.stderr, /--mesh-issuer "west-east\/north" must be PAIR\/west or PAIR\/east/);
    const days = await runCli(['report', '-f', file, '--mesh-issuer', 'west-east/west', '--issuer-threshold-days', '0']);
    assert.equal(days.code, 2);
    assert.match(days.stderr, /--issuer-threshold-days "0" must be a whole number of days from 1 to 365/);
  });
});
