/**
 * The starting verbs (`kubeha link`, `rotate`, `failover start`) and the failover answers, as child
 * processes against a real Temporal dev server. Workers in this process run kubeha's REAL workflows
 * with stub activities (one task queue per workflow, so each fake world stays its own), so each verb is
 * checked end to end: exit codes (0 done, 1 failed, 2 bad input), live progress lines, `--detach`, and
 * a Temporal that cannot be reached. `kubeha status` without an id lists the runs by cluster.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../client/devServer';
import { FAILURE_CONVERTER_PATH, kubehaDataConverter } from '../../lib/codec/dataConverter';
import { freePort } from '../../lib/freePort';
import { projectRoot } from '../../lib/paths';
import { MESH_STEPS } from '../../common/inputs/linkMeshClusters';
import { FakeFailoverWorld, failoverInput } from '../failover/fakeFailoverWorld';
import { FakeMeshWorld } from '../mesh/fakeMeshWorld';
import { RotationWorld } from '../rotate/harness';
import { eventually } from '../support/workflowHarness';
import { runCli } from './cliProcess';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(projectRoot, 'examples', name), 'utf8'));
/** The rotation example without its Linkerd issuer: this test's world has no mesh. */
const rotateExample = (): Record<string, unknown> => {
  const { meshIssuer, ...rest } = example('rotate-certificate-key.json');
  assert.ok(meshIssuer, 'the example shows the meshIssuer section');
  return rest;
};

describe('kubeha link, rotate and failover against Temporal with stub activities', { timeout: 600_000 }, () => {
  // The CLI children and the workers share configured keys, as a deployment does.
  const codecKeys = `verbs:${randomBytes(32).toString('base64')}`;
  const queues = { link: 'verbs-link', rotate: 'verbs-rotate', failover: 'verbs-failover' };
  let dir: string;
  let server: DevServer;
  let connection: Connection;
  let client: Client;
  let workerConnection: NativeConnection;
  const workers: Array<{ worker: Worker; running: Promise<void> }> = [];
  const rotation = new RotationWorld();
  const failover = new FakeFailoverWorld();

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-cli-verbs-'));
    server = await startDevServer({ dataDir: dir, port: await freePort(), uiPort: await freePort(), logLevel: 'error' });
    const converter = kubehaDataConverter({ KUBEHA_CODEC_KEYS: codecKeys });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, dataConverter: converter.dataConverter });
    Runtime.install({ logger: new DefaultLogger('WARN') });
    workerConnection = await NativeConnection.connect({ address: server.address });
    const bundle: WorkflowBundleWithSourceMap = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: quietLogger,
    });
    const activitiesOf: Record<keyof typeof queues, object> = {
      link: new FakeMeshWorld().activities(),
      rotate: rotation.allActivities(),
      failover: failover.allActivities(),
    };
    for (const [name, taskQueue] of Object.entries(queues) as Array<[keyof typeof queues, string]>) {
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        workflowBundle: bundle,
        activities: activitiesOf[name],
        dataConverter: converter.dataConverter,
        shutdownGraceTime: '1 s',
      });
      workers.push({ worker, running: worker.run() });
    }
  });
  after(async () => {
    for (const { worker } of workers) worker.shutdown();
    await Promise.all(workers.map((w) => w.running.catch(noop)));
    await workerConnection?.close();
    await connection?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (taskQueue: string): NodeJS.ProcessEnv => ({
    TEMPORAL_ADDRESS: server.address,
    KUBEHA_UI_URL: server.uiUrl,
    KUBEHA_TASK_QUEUE: taskQueue,
    KUBEHA_CODEC_KEYS: codecKeys,
  });
  const write = (name: string, value: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const exists = (workflowId: string) =>
    client.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        () => true,
        () => false,
      );

  test('link follows LinkMeshClusters live to its result and exits 0', async () => {
    const file = write('link.json', { ...example('link-mesh-clusters.json'), pairName: 'verbs-pair', onFailure: 'fail' });
    const run = await runCli(['link', '-f', file], env(queues.link), 180_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^started LinkMeshClusters for pair west → east: workflow id link-verbs-pair, run [0-9a-f-]{36}$/m);
    assert.ok(run.stdout.includes(`Web UI: ${server.uiUrl}/namespaces/default/workflows/link-verbs-pair`), run.stdout);
    // Live progress: the step names appear as the run passes them, before the result.
    const completedAt = run.stdout.indexOf('LinkMeshClusters link-verbs-pair completed:');
    assert.ok(completedAt > 0, run.stdout);
    for (const step of MESH_STEPS) assert.ok(run.stdout.slice(0, completedAt).includes(step), `progress shows ${step}:\n${run.stdout}`);
  });

  test('a bad file exits 2 naming each bad field, and starts nothing', async () => {
    const bad = example('rotate-certificate-key.json');
    (bad.hosts as Array<Record<string, unknown>>)[1].address = '10.0.1.999';
    bad.clusterName = 'bad-input';
    const run = await runCli(['rotate', '-f', write('bad-rotate.json', bad)], env(queues.rotate));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /is not a valid RotateCertificateKey input; nothing was started:\n {2}hosts\[1\]\.address: /);
    assert.equal(await exists('rotate-bad-input'), false);

    const link: Record<string, unknown> = { ...example('link-mesh-clusters.json'), pairName: 'bad-link' };
    (link as Record<string, Record<string, unknown>>).east.name = 'west';
    const linkRun = await runCli(['link', '-f', write('bad-link.json', link)], env(queues.link));
    assert.equal(linkRun.code, 2);
    assert.match(linkRun.stderr, /east\.name: must differ from west\.name/);
    assert.equal(await exists('link-bad-link'), false);

    const notJson = await runCli(['failover', 'start', '-f', write('not-json.json', 'x') + ''], env(queues.failover));
    assert.equal(notJson.code, 2);
  });

  test('rotate --detach returns once started; the run completes on the worker', async () => {
    const file = write('rotate.json', { ...rotateExample(), clusterName: 'verbs-detach' });
    const run = await runCli(['rotate', '-f', file, '--detach'], env(queues.rotate));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /started RotateCertificateKey for cluster verbs-detach: workflow id rotate-verbs-detach/);
    assert.match(run.stdout, /follow it with: kubeha status rotate-verbs-detach/);
    assert.doesNotMatch(run.stdout, /completed/);
    await client.workflow.getHandle('rotate-verbs-detach').result();

    const again = await runCli(['rotate', '-f', file, '--detach', '--id', 'rotate-verbs-detach-2'], env(queues.rotate));
    assert.equal(again.code, 0, again.stderr);
    await client.workflow.getHandle('rotate-verbs-detach-2').result();
  });

  test('recover validates its file (exit 2 naming the field), starts one recovery per cluster and says when one is open', async () => {
    const bad = write('recover-bad.json', { ...example('recover-control-plane.json'), skipSteps: ['precheck'] });
    const refused = await runCli(['recover', '-f', bad], env('verbs-recover'));
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(refused.stderr, /skipSteps: must keep precheck/);
    assert.equal(await exists('recover-control-plane-prod-a'), false);

    const input = example('recover-control-plane.json');
    const file = write('recover.json', { ...input, cluster: { ...(input.cluster as object), clusterName: 'verbs-recover' } });
    // No worker polls this queue: the run waits, started, until the test ends it.
    const run = await runCli(['recover', '-f', file, '--detach'], env('verbs-recover'));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /started RecoverControlPlane for cluster verbs-recover: workflow id recover-control-plane-verbs-recover/);
    const second = await runCli(['recover', '-f', file, '--detach'], env('verbs-recover'));
    assert.notEqual(second.code, 0);
    assert.match(second.stderr + second.stdout, /already open \(one recovery per cluster at a time\)/);
    await client.workflow.getHandle('recover-control-plane-verbs-recover').terminate('test done');
  });

  test('a run that fails exits 1 naming the failed step', async () => {
    rotation.uploadFails = 'injected: upload-certs refused';
    try {
      const file = write('rotate-fail.json', { ...rotateExample(), clusterName: 'verbs-fails' });
      const run = await runCli(['rotate', '-f', file], env(queues.rotate), 180_000);
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, /RotateCertificateKey rotate-verbs-fails .*step rotate-key failed/s);
    } finally {
      rotation.uploadFails = undefined;
    }
  });

  test('failover start, approve, a late reject refused, failback', async () => {
    const input = failoverInput({
      west: { name: 'wv', kubeconfigSecret: 'clusters/west/admin-kubeconfig' },
      approval: { required: true, timeoutMinutes: 10, onTimeout: 'reject' },
    });
    const started = await runCli(['failover', 'start', '-f', write('failover.json', input), '--detach'], env(queues.failover));
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /started FailoverToEast for pair wv → east: workflow id failover-wv-to-east/);

    const approved = await eventually(
      async () => {
        const run = await runCli(['failover', 'approve', 'failover-wv-to-east', '--by', 'tester', '--comment', 'east is ready'], env(queues.failover));
        return run.code === 0 ? run : undefined;
      },
      60_000,
      'the approval to be taken',
    );
    assert.match(approved.stdout, /failover-wv-to-east: approved by tester/);

    const late = await runCli(['failover', 'reject', 'failover-wv-to-east', '--by', 'someone-else'], env(queues.failover));
    assert.equal(late.code, 1);
    assert.match(late.stderr, /failover-wv-to-east refused the reject: already decided: approve by tester/);

    await eventually(async () => failover.shiftRequests.includes(100), 60_000, 'traffic at east');
    const back = await runCli(['failover', 'failback', 'failover-wv-to-east', '--by', 'tester'], env(queues.failover));
    assert.equal(back.code, 0, back.stderr);
    const result = (await client.workflow.getHandle('failover-wv-to-east').result()) as { outcome: string };
    assert.equal(result.outcome, 'failed-back');

    const closed = await runCli(['failover', 'approve', 'failover-wv-to-east'], env(queues.failover));
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /is completed, not running/);
    const wrongType = await runCli(['failover', 'approve', 'rotate-verbs-detach'], env(queues.failover));
    assert.equal(wrongType.code, 2);
    assert.match(wrongType.stderr, /is a RotateCertificateKey run, not FailoverToEast/);
  });

  test('a Temporal that cannot be reached is named, with how to fix it', async () => {
    const file = write('link-down.json', example('link-mesh-clusters.json'));
    const run = await runCli(['link', '-f', file], { ...env(queues.link), TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^cannot reach Temporal at 127\.0\.0\.1:\d+ .*start it with `kubeha dev` or set TEMPORAL_ADDRESS/);
  });

  test('status without an id lists the runs of every cluster; --cluster narrows it', async () => {
    const listed = await eventually(
      async () => {
        const run = await runCli(['status', '--json'], env(queues.link));
        const runs = JSON.parse(run.stdout) as Array<{ cluster: string; workflowId: string }>;
        const ids = runs.map((r) => r.workflowId);
        return ids.includes('link-verbs-pair') && ids.includes('rotate-verbs-detach') ? runs : undefined;
      },
      30_000,
      'both runs in the listing',
    );
    assert.equal(listed.find((r) => r.workflowId === 'link-verbs-pair')?.cluster, 'verbs-pair', 'LinkMeshClusters lists itself under its pair');
    assert.equal(listed.find((r) => r.workflowId === 'rotate-verbs-detach')?.cluster, 'verbs-detach');

    const table = await runCli(['status'], env(queues.link));
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^CLUSTER +WORKFLOW +STATUS +PHASE +STEP +STARTED$/m);
    assert.match(table.stdout, /^verbs-detach +RotateCertificateKey +completed +succeeded /m);
    assert.match(table.stdout, /^verbs-pair +LinkMeshClusters +completed +succeeded /m);
    for (const line of table.stdout.split('\n')) assert.ok(line.length <= 80, `fits 80 columns: ${line}`);

    const one = await runCli(['status', '--cluster', 'verbs-detach', '--json'], env(queues.link));
    const runs = JSON.parse(one.stdout) as Array<{ cluster: string }>;
    assert.ok(runs.length >= 2, 'both rotations of verbs-detach');
    assert.deepEqual([...new Set(runs.map((r) => r.cluster))], ['verbs-detach']);
  });
});
