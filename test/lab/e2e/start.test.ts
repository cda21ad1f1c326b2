/**
 * `npm start` (`kubeha start`) as a user runs it: the dev server, the codec server, the worker and the
 * lab come up, BootstrapStackedEtcd runs on the lab's west cluster with its steps shown live, the Web
 * UI link is printed, kubeha keeps running; the README's walk-through runs beside it (walkthrough.ts:
 * east bootstrapped, the pair linked, a failover and its failback); Ctrl-C stops everything and takes
 * the lab down.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { defaultTopologyInput, labDown } from '../../../lab/orchestrator';
import { collect, OutputWatch, spawnCli } from '../../client/cliProcess';
import { freePort } from '../../../lib/freePort';
import { labHostPaths } from '../../../lab/hosts/layout';
import { processesMentioning } from './support';
import { runWalkthrough } from './walkthrough';

/** The last lines of every lab host's kubelet log. */
function kubeletLogTails(labDir: string, lines = 25): string {
  const hostsDir = path.join(labDir, 'hosts');
  if (!existsSync(hostsDir)) return '';
  return readdirSync(hostsDir)
    .map((host) => {
      const file = path.join(labHostPaths(labDir, host).hostLabDir, 'kubelet.log');
      const text = existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no kubelet log)';
      return `--- ${host}: kubelet.log (last ${lines} lines)\n${text}\n`;
    })
    .join('');
}

describe('kubeha start with the lab', { timeout: 30 * 60_000 }, () => {
  const dataDir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'kubeha-start-'));
  const label = `start-${process.pid}`;
  let cli: ChildProcess | undefined;
  let passed = false;
  after(async () => {
    // A bootstrap that never finished is explained by the hosts' kubelet logs: print their ends before the lab goes.
    if (!passed) process.stderr.write(kubeletLogTails(path.join(dataDir, 'lab')));
    // A failed assertion leaves kubeha running: stop it as a user would, then make sure the lab is down.
    if (cli && cli.exitCode === null) {
      cli.kill('SIGINT');
      await new Promise((resolve) => {
        cli?.once('exit', resolve);
        setTimeout(resolve, 90_000);
      });
    }
    await labDown({ dataDir }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('brings everything up, bootstraps west on the lab, keeps running, runs the README walk-through beside it, and Ctrl-C leaves nothing behind', async () => {
    // Addresses of its own, so it can run beside the other lab test and a developer's lab.
    const defaults = defaultTopologyInput();
    const topology = {
      ...defaults,
      clusters: defaults.clusters.map((c, ci) => ({ ...c, hosts: c.hosts.map((h, i) => ({ ...h, address: `127.0.${10 + ci * 10}.${151 + i}` })) })),
      loadBalancerAddressPrefix: '127.0.96',
      hostsBlockLabel: label,
    };
    const topologyFile = path.join(dataDir, 'topology.json');
    writeFileSync(topologyFile, JSON.stringify(topology));
    const uiPort = await freePort();
    const temporalPort = await freePort();
    cli = spawnCli(
      [
        'start',
        '--port',
        String(temporalPort),
        '--ui-port',
        String(uiPort),
        '--codec-port',
        String(await freePort()),
        '--data-dir',
        path.join(dataDir, 'temporal'),
        '--topology',
        topologyFile,
      ],
      { KUBEHA_DATA_DIR: dataDir },
    );
    const ended = collect(cli, 25 * 60_000);
    const output = new OutputWatch(cli);
    await output.waitFor(/lab up in [\d.]+ s/, 120_000);
    await output.waitFor(/started BootstrapStackedEtcd for cluster west: workflow id bootstrap-west/, 180_000);
    await output.waitFor(new RegExp(`Web UI: http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/bootstrap-west`), 10_000);
    await output.waitFor(/the west cluster is up; kubeha keeps running/, 10 * 60_000);
    // The live step list went by: every step of the bootstrap is shown done.
    for (const step of ['ensure-load-balancer', 'prepare-hosts', 'init-primary', 'join-control-plane', 'join-spare', 'join-workers', 'verify']) {
      assert.match(output.text, new RegExp(`✓ ${step}`), `step ${step} shown done`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(cli.exitCode, null, 'kubeha keeps running after the bootstrap');

    // The README's walk-through, in a second terminal: east, the link, a failover and its failback.
    const transcript: string[] = [];
    try {
      const timings = await runWalkthrough({ dataDir, address: `127.0.0.1:${temporalPort}`, say: (line) => transcript.push(line) });
      process.stdout.write(`# README walk-through timings (ms): ${JSON.stringify(timings)}\n`);
    } catch (err) {
      process.stderr.write(`${transcript.join('\n').slice(-8000)}\n--- kubeha start:\n${output.text.slice(-4000)}\n`);
      throw err;
    }
    assert.equal(cli.exitCode, null, 'kubeha keeps running after the walk-through');

    cli.kill('SIGINT');
    const run = await ended;
    cli = undefined;
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    assert.deepEqual(processesMentioning(dataDir), [], 'no process of the lab is left');
    assert.ok(!readFileSync('/etc/hosts', 'utf8').includes(label), "the lab's /etc/hosts block is gone");
    passed = true;
  });
});
