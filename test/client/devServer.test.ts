/**
 * The Temporal dev server, started from the real CLI in .venv on free ports: by `kubeha dev` as a whole
 * command, and through the module `npm start` and the lab reuse.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerArgs, devServerSupportsFlag, searchAttributeArgs, startDevServer, type DevServer } from '../../client/devServer';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { temporalCliPath } from '../../lib/paths';
import { collect, isAlive, OutputWatch, spawnCli } from './cliProcess';
import { freePort } from '../../lib/freePort';

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW (the proto package is not a direct dependency). */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

describe('kubeha dev', () => {
  let dir: string;
  let cli: ChildProcess | undefined;
  let serverPid: number | undefined;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-cli-dev-'));
  });
  after(() => {
    // Only if an assertion failed half-way: never leave a server behind.
    if (cli && cli.exitCode === null) cli.kill('SIGKILL');
    if (serverPid && isAlive(serverPid)) process.kill(serverPid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('starts a dev server on the given ports, the Web UI answers, and Ctrl-C leaves no process behind', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const codecPort = await freePort();
    const started = Date.now();
    cli = spawnCli(['dev', '--port', String(port), '--ui-port', String(uiPort), '--codec-port', String(codecPort), '--data-dir', dir, '--no-worker']);
    const ended = collect(cli, 90_000);
    const output = new OutputWatch(cli);
    const [, pid, address] = await output.waitFor(/Temporal dev server \(pid (\d+)\) at (\S+),/, 60_000);
    serverPid = Number(pid);
    const [, uiUrl] = await output.waitFor(/Temporal Web UI: (\S+)/, 10_000);
    const readyMs = Date.now() - started;
    assert.equal(address, `127.0.0.1:${port}`);
    assert.equal(uiUrl, `http://127.0.0.1:${uiPort}`);

    const page = await fetch(uiUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const connection = await Connection.connect({ address });
    try {
      const { customAttributes: keys } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const key of Object.values(SEARCH_ATTRIBUTES)) assert.ok(keys && key.name in keys, `${key.name} is registered`);
    } finally {
      await connection.close();
    }
    assert.ok(existsSync(path.join(dir, 'temporal.sqlite')), 'the state lives in the data dir');
    // The Web UI decodes payloads through kubeha's codec server, which answers before the UI asks.
    assert.match(
      readFileSync(`/proc/${serverPid}/cmdline`, 'utf8').split('\0').join(' '),
      new RegExp(`--ui-codec-endpoint http://127\\.0\\.0\\.1:${codecPort}`),
    );
    const health = await fetch(`http://127.0.0.1:${codecPort}/health`);
    assert.equal(health.status, 200);

    const stopAt = Date.now();
    cli.kill('SIGINT');
    const run = await ended;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /SIGINT: stopping/);
    assert.ok(await waitGone(serverPid, 5_000), `dev server pid ${serverPid} is gone`);
    process.stdout.write(`# kubeha dev: ready in ${readyMs} ms, stopped in ${Date.now() - stopAt} ms\n`);
  });

  test('runs the worker in the same process: it polls the task queue, and Ctrl-C stops worker and server', async () => {
    const port = await freePort();
    const taskQueue = 'kubeha-dev-test';
    const started = Date.now();
    cli = spawnCli(['dev', '--port', String(port), '--ui-port', String(await freePort()), '--codec-port', String(await freePort()), '--data-dir', dir], {
      KUBEHA_TASK_QUEUE: taskQueue,
    });
    const ended = collect(cli, 120_000);
    const output = new OutputWatch(cli);
    const [, pid] = await output.waitFor(/Temporal dev server \(pid (\d+)\)/, 60_000);
    serverPid = Number(pid);
    await output.waitFor(new RegExp(`worker polling task queue "${taskQueue}"`), 90_000);
    const readyMs = Date.now() - started;
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      // The first poll reaches the server a moment after the worker starts running.
      let pollers = 0;
      for (const deadline = Date.now() + 15_000; pollers === 0 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        const described = await connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
        });
        pollers = described.pollers?.length ?? 0;
      }
      assert.ok(pollers > 0, 'the worker polls for workflow tasks');
    } finally {
      await connection.close();
    }
    const stopAt = Date.now();
    cli.kill('SIGINT');
    const run = await ended;
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /IllegalStateError|Error:/);
    assert.ok(await waitGone(serverPid, 5_000), `dev server pid ${serverPid} is gone`);
    process.stdout.write(`# kubeha dev with worker: polling after ${readyMs} ms, stopped in ${Date.now() - stopAt} ms\n`);
  });

  test('when the dev server dies, kubeha dev says so and exits 1', async () => {
    cli = spawnCli(['dev', '--port', String(await freePort()), '--ui-port', String(await freePort()), '--no-codec', '--data-dir', dir, '--no-worker']);
    const ended = collect(cli, 60_000);
    const [, pid] = await new OutputWatch(cli).waitFor(/Temporal dev server \(pid (\d+)\)/, 60_000);
    serverPid = Number(pid);
    process.kill(serverPid, 'SIGKILL');
    const run = await ended;
    assert.equal(run.code, 1);
    assert.match(run.stderr, /the Temporal dev server exited \(SIGKILL\); see .*temporal-dev\.log/);
  });

  test('kubeha start (npm start) prints how to start a workflow, keeps running, and stops on SIGTERM', async () => {
    const uiPort = await freePort();
    cli = spawnCli([
      'start',
      '--port',
      String(await freePort()),
      '--ui-port',
      String(uiPort),
      '--codec-port',
      String(await freePort()),
      '--data-dir',
      dir,
      '--no-worker',
      '--no-lab',
    ]);
    const ended = collect(cli, 90_000);
    const output = new OutputWatch(cli);
    const [, pid] = await output.waitFor(/Temporal dev server \(pid (\d+)\)/, 60_000);
    serverPid = Number(pid);
    await output.waitFor(/Ctrl-C stops everything/, 10_000);
    assert.match(output.text, /^ {2}kubeha bootstrap -f examples\/bootstrap-stacked-etcd\.json$/m);
    assert.ok(output.text.includes(`Web UI (http://127.0.0.1:${uiPort}/namespaces/default/workflows): "Start Workflow"`), output.text);
    assert.match(output.text, /workflow type BootstrapStackedEtcd, task queue kubeha,/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(cli.exitCode, null, 'still running');
    cli.kill('SIGTERM');
    const run = await ended;
    assert.equal(run.code, 0, run.stderr);
    assert.ok(await waitGone(serverPid, 5_000));
  });
});

describe('startDevServer', () => {
  let dir: string;
  let server: DevServer | undefined;
  let blocker: Server | undefined;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-devserver-'));
  });
  after(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('builds the command line: ports, SQLite file in the data dir, warn logs, every search attribute', () => {
    const cli = temporalCliPath();
    const args = devServerArgs({ dataDir: '/data', port: 1234, uiPort: 2345 }, cli);
    const value = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    assert.deepEqual(args.slice(0, 2), ['server', 'start-dev']);
    assert.equal(value('--ip'), '127.0.0.1');
    assert.equal(value('--port'), '1234');
    assert.equal(value('--ui-port'), '2345');
    assert.equal(value('--db-filename'), '/data/temporal.sqlite');
    assert.equal(value('--log-level'), 'warn');
    assert.deepEqual(searchAttributeArgs(), ['KubehaCluster=Keyword', 'KubehaStep=Keyword', 'KubehaPhase=Keyword', 'KubehaFailoverState=Keyword']);
    assert.deepEqual(
      args.filter((_, i) => args[i - 1] === '--search-attribute'),
      searchAttributeArgs(),
    );
    // This CLI (1.x) has the flag; the check reads its help rather than assuming.
    assert.equal(devServerSupportsFlag(cli, '--ui-disable-news-fetch'), true);
    assert.equal(args.includes('--ui-disable-news-fetch'), true);
    assert.equal(devServerSupportsFlag(cli, '--no-such-flag'), false);
  });

  test('keeps workflows across a restart on the same data dir, and stop() ends the process', async () => {
    const port = await freePort();
    server = await startDevServer({ dataDir: dir, port, uiPort: await freePort() });
    let connection = await Connection.connect({ address: server.address });
    await connection.workflowService.startWorkflowExecution({
      namespace: 'default',
      workflowId: 'kept-across-restarts',
      workflowType: { name: 'Nothing' },
      taskQueue: { name: 'nobody-polls' },
      requestId: 'kept-across-restarts-1',
    });
    await connection.close();
    const firstPid = server.pid;
    await server.stop();
    assert.equal(isAlive(firstPid), false);
    await server.stop(); // idempotent

    server = await startDevServer({ dataDir: dir, port, uiPort: await freePort() });
    connection = await Connection.connect({ address: server.address });
    try {
      const described = await connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: 'kept-across-restarts' } });
      assert.equal(described.workflowExecutionInfo?.execution?.workflowId, 'kept-across-restarts');
    } finally {
      await connection.close();
    }
    const pid = server.pid;
    await server.stop();
    server = undefined;
    assert.equal(isAlive(pid), false);
  });

  test('a port already taken fails with the server output, and no process is left', async () => {
    // Connections a probe makes to the taken port are dropped, so none keeps this process alive.
    blocker = createServer((socket) => socket.destroy());
    const port = await new Promise<number>((resolve) => blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as { port: number }).port)));
    await assert.rejects(
      startDevServer({ dataDir: dir, port, uiPort: await freePort(), readyTimeoutMs: 30_000 }),
      (err: Error) => /the Temporal dev server .* did not start: it exited/.test(err.message) && err.message.includes('full log:'),
    );
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('start-dev') && l.includes(`--port ${port} `));
    assert.deepEqual(left, []);
  });
});
