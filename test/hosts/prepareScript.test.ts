/**
 * The preparation script: its report parser, its parameters, and the script itself run for real
 * under dash in dry-run mode (which only checks, so it is safe on this machine): every item is
 * reported exactly once and nothing is changed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildPrepareScript, expectedItems, parsePrepareOutput, PREPARE_ITEMS } from '../../activities/hosts/prepareScript';

describe('prepare report parsing', () => {
  test('ok, changed and would-change lines; noise ignored; CRLF tolerated', () => {
    const report = parsePrepareOutput(
      'ok swap\r\nchanged br_netfilter\nGet:1 http://deb.debian.org bookworm InRelease\nwould-change sysctl\n  ok containerd  \nsomething else\n',
    );
    assert.deepEqual(report.ok, ['swap', 'containerd']);
    assert.deepEqual(report.changed, ['br_netfilter']);
    assert.deepEqual(report.wouldChange, ['sysctl']);
    assert.equal(report.error, undefined);
  });

  test('an error line names the item and the reason', () => {
    const report = parsePrepareOutput('ok swap\nerror kubernetes-apt-repo the host could not download the pkgs.k8s.io signing key\n');
    assert.deepEqual(report.error, { item: 'kubernetes-apt-repo', reason: 'the host could not download the pkgs.k8s.io signing key' });
  });

  test('workers do not get etcd-client, control planes do', () => {
    assert.ok(!expectedItems(false).includes('etcd-client'));
    assert.deepEqual(expectedItems(true), [...PREPARE_ITEMS]);
  });
});

describe('the script', () => {
  test('pins the package version and the pkgs.k8s.io minor repository', () => {
    const script = buildPrepareScript({ kubernetesVersion: 'v1.31.2', controlPlane: false, dryRun: false });
    assert.match(script, /^K8S_VERSION='1\.31\.2'$/m);
    assert.match(script, /^K8S_MINOR='1\.31'$/m);
    assert.match(script, /^CONTROL_PLANE=0$/m);
    assert.match(script, /^DRY_RUN=0$/m);
    assert.ok(script.includes('https://pkgs.k8s.io/core:/stable:/v$K8S_MINOR/deb/'));
    assert.ok(script.includes('SystemdCgroup'));
    assert.ok(script.includes("dpkg-query -W -f='${Status}'"));
    assert.ok(script.trimEnd().endsWith('main </dev/null'), 'the body runs with stdin from /dev/null');
  });

  test('is valid POSIX sh (dash and bash parse it)', () => {
    const script = buildPrepareScript({ kubernetesVersion: '1.30.6', controlPlane: true, dryRun: true });
    for (const shell of ['dash', 'bash']) {
      const result = spawnSync(shell, ['-n'], { input: script, encoding: 'utf8' });
      assert.equal(result.status, 0, `${shell}: ${result.stderr}`);
    }
  });

  test('a dry run on a real machine reports every item once and changes nothing', () => {
    const script = buildPrepareScript({ kubernetesVersion: '1.31.2', controlPlane: true, dryRun: true });
    const result = spawnSync('dash', ['-s'], { input: script, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const report = parsePrepareOutput(result.stdout);
    assert.equal(report.changed.length, 0, 'a dry run never changes anything');
    assert.equal(report.error, undefined);
    const reported = [...report.ok, ...report.wouldChange];
    assert.deepEqual([...reported].sort(), [...PREPARE_ITEMS].sort());
    // Every stdout line is a report line: tools write to stderr only.
    for (const line of result.stdout.trim().split('\n')) assert.match(line, /^(ok|would-change) [a-z_-]+$/);
  });
});
