/**
 * `kubeha bootstrap` and `kubeha status` as child processes against a real Temporal dev server. The
 * follow tests run a worker in this process with a stand-in workflow of the same type name and query
 * (test/client/fixtures), so the CLI's side is tested without hosts or AWS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../client/devServer';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { formatKeyList } from '../../lib/codec/keyring';
import type { StatusReport } from '../../client/commands/status';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { projectRoot } from '../../lib/paths';
import { collect, OutputWatch, runCli, spawnCli } from './cliProcess';
import { freePort } from '../../lib/freePort';

const example = (): { clusterName: string } & Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(projectRoot, 'examples', 'bootstrap-stacked-etcd.json'), 'utf8'));

describe('kubeha bootstrap and status against Temporal', () => {
  let dir: string;
  let server: DevServer;
  let connection: Connection;
  let client: Client;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-cli-commands-'));
    server = await startDevServer({ dataDir: dir, port: await freePort(), uiPort: await freePort(), logLevel: 'error' });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    // The worker command refuses to run without shared payload keys: give the CLI the ones this process uses.
    env = {
      TEMPORAL_ADDRESS: server.address,
      KUBEHA_UI_URL: server.uiUrl,
      KUBEHA_TASK_QUEUE: 'nobody-polls-here',
      KUBEHA_CODEC_KEYS: formatKeyList([kubehaDataConverter().keyring.encryptKey]),
    };
  });
  after(async () => {
    await connection?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function inputFile(clusterName: string): string {
    const file = path.join(dir, `${clusterName}.json`);
    writeFileSync(file, JSON.stringify({ ...example(), clusterName }));
    return file;
  }

  test('status of an unknown workflow id says there is none, where it looked', async () => {
    const run = await runCli(['status', 'no-such-run'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^no workflow with id no-such-run in namespace default at ${server.address.replace(/\./g, '\\.')}`));
  });

  test('status with Temporal down names the address and how to start it', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const run = await runCli(['status', 'anything'], { ...env, TEMPORAL_ADDRESS: closed });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^cannot reach Temporal at 127\.0\.0\.1:\d+ .*: start it with `kubeha dev` or set TEMPORAL_ADDRESS/);
    assert.ok(Date.now() - started < 15_000, 'gives up within seconds');
  });

  test('worker with Temporal down names the address and exits 1', async () => {
    const run = await runCli(['worker'], { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^cannot reach Temporal at 127\.0\.0\.1:\d+ .*start it with `kubeha dev` or set TEMPORAL_ADDRESS/);
  });

  test('worker runs against TEMPORAL_ADDRESS until SIGTERM, then exits 0', async () => {
    const worker = spawnCli(['worker'], { ...env, KUBEHA_TASK_QUEUE: 'kubeha-worker-command' });
    const ended = collect(worker, 120_000);
    try {
      await new OutputWatch(worker).waitFor(/worker polling task queue "kubeha-worker-command" in namespace "default"/, 90_000);
    } finally {
      worker.kill('SIGTERM');
    }
    const run = await ended;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /SIGTERM: stopping/);
  });

  test('bootstrap --no-follow starts one run per cluster, tagged with the cluster, and prints its Web UI link', async () => {
    const file = inputFile('solo-a');
    const run = await runCli(['bootstrap', '-f', file, '--no-follow'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /started BootstrapStackedEtcd for cluster solo-a: workflow id bootstrap-solo-a, run [0-9a-f-]{36}/);
    assert.ok(run.stdout.includes(`Web UI: ${server.uiUrl}/namespaces/default/workflows/bootstrap-solo-a`), run.stdout);
    assert.match(run.stdout, /follow it with: kubeha status bootstrap-solo-a/);

    const described = await client.workflow.getHandle('bootstrap-solo-a').describe();
    assert.equal(described.type, 'BootstrapStackedEtcd');
    assert.equal(described.taskQueue, 'nobody-polls-here');
    assert.equal(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.cluster), 'solo-a');

    const again = await runCli(['bootstrap', '-f', file, '--no-follow'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /a run with workflow id bootstrap-solo-a is already open \(one bootstrap per cluster at a time\); nothing was started/);
    assert.match(again.stderr, /follow it: kubeha status bootstrap-solo-a/);

    const other = await runCli(['bootstrap', '-f', file, '--no-follow', '--id', 'solo-a-second'], env);
    assert.equal(other.code, 0, 'an explicit --id is another run');
  });

  test('status of a run no worker serves shows what Temporal knows and says no worker answered', async () => {
    await runCli(['bootstrap', '-f', inputFile('idle-b'), '--no-follow'], env);
    const run = await runCli(['status', 'bootstrap-idle-b', '--query-timeout', '1'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^BootstrapStackedEtcd bootstrap-idle-b \(run [0-9a-f-]{36}\): RUNNING$/m);
    assert.match(run.stdout, /started \d{4}-\d\d-\d\dT.*task queue nobody-polls-here/);
    assert.match(run.stdout, /progress: unavailable \(no worker answered within 1 s; is one running\? start it with `kubeha worker`\)/);

    const json = await runCli(['status', 'bootstrap-idle-b', '--json', '--query-timeout', '1'], env);
    const report = JSON.parse(json.stdout) as StatusReport;
    assert.equal(report.status, 'RUNNING');
    assert.equal(report.progress, null);
    assert.equal(report.url, `${server.uiUrl}/namespaces/default/workflows/bootstrap-idle-b`);
  });

  describe('with a worker serving a stand-in workflow', () => {
    const taskQueue = 'kubeha-cli-follow';
    let worker: Worker;
    let workerConnection: NativeConnection;
    let running: Promise<void>;
    before(async () => {
      Runtime.install({ logger: new DefaultLogger('WARN') });
      workerConnection = await NativeConnection.connect({ address: server.address });
      worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        workflowsPath: require.resolve('./fixtures/fakeBootstrapWorkflow'),
        // The CLI encrypts what it sends; a worker reads it with the same keys, as kubeha's worker does.
        dataConverter: kubehaDataConverter().dataConverter,
        shutdownGraceTime: '1 s',
      });
      running = worker.run();
    });
    after(async () => {
      worker?.shutdown();
      await running;
      await workerConnection?.close();
    });

    test('bootstrap follows the run, printing each change once, and ends with the result and exit code 0', async () => {
      const run = await runCli(['bootstrap', '-f', inputFile('ok-c')], { ...env, KUBEHA_TASK_QUEUE: taskQueue });
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.split('\n');
      assert.ok(lines.includes('  ✓ ensure-load-balancer  Created: NLB test-lb created'), run.stdout);
      assert.ok(lines.includes(`  ✓ ${'verify'.padEnd(20)}  Verified`), run.stdout);
      assert.ok(lines.includes('    load balancer: test-lb.elb.local'), run.stdout);
      assert.equal(lines.filter((l) => l === '  ✓ ensure-load-balancer  Created: NLB test-lb created').length, 1, 'an unchanged line is not printed again');
      assert.ok(!run.stdout.includes('\x1b['), 'no escape codes when the output is not a terminal');
      assert.match(run.stdout, /BootstrapStackedEtcd bootstrap-ok-c completed:\n\{\n {2}"clusterName": "ok-c"/);
    });

    test('bootstrap of a run that fails exits 1 with the message, type, step, host and hint', async () => {
      const run = await runCli(['bootstrap', '-f', inputFile('fails-d')], { ...env, KUBEHA_TASK_QUEUE: taskQueue });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /^ {2}✗ verify {16}StepFailed: etcd has 2 members, expected 3$/m);
      assert.match(run.stderr, /^BootstrapStackedEtcd bootstrap-fails-d failed: verify: etcd has 2 members, expected 3$/m);
      assert.match(run.stderr, /^ {2}type: VerificationFailed$/m);
      assert.match(run.stderr, /^ {2}step: verify$/m);
      assert.match(run.stderr, /^ {2}host: cp-3$/m);
      assert.match(run.stderr, /^ {2}hint: check cp-3 with `etcdctl member list`$/m);
    });

    test('status of a closed run still shows its steps (the worker answers queries) and its failure', async () => {
      const run = await runCli(['status', 'bootstrap-fails-d'], { ...env, KUBEHA_TASK_QUEUE: taskQueue });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /: FAILED$/m);
      assert.match(run.stdout, /closed \d{4}-/);
      assert.match(run.stdout, /^ {2}✓ join-control-plane {4}Joined$/m);
      assert.match(run.stdout, /^failed: verify: etcd has 2 members, expected 3$/m);

      const json = JSON.parse((await runCli(['status', 'bootstrap-ok-c', '--json'], env)).stdout) as StatusReport;
      assert.equal(json.status, 'COMPLETED');
      assert.equal(json.progress?.phase, 'succeeded');
      assert.deepEqual(json.result, { clusterName: 'ok-c', controlPlanes: ['cp-1', 'cp-2'] });
    });
  });
});
