/**
 * The first click on the local default: `kubeha dev`'s services (codec server in local mode, the dev
 * server's Web UI pointed at it, the worker), a FailoverToEast started with `kubeha failover start`, and
 * the link that command prints opened in a FRESH browser profile (no login, no codec dialog). The page
 * must show the decoded input, current details and result, and no codec error; a caller that is not
 * the UI's origin still gets nothing decoded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { chromium, type Browser } from 'playwright-core';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { projectRoot } from '../../lib/paths';
import { runCli } from '../client/cliProcess';
import { failoverBundle, failoverInput, FakeFailoverWorld } from '../failover/fakeFailoverWorld';
import { eventually } from '../support/workflowHarness';
import { startDevStack, type DevStack } from './support/devStack';
import { TemporalWebUi } from './support/temporalWebUi';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'ui-first-click');
const QUEUE = `first-click-${process.pid}`;
const WEST = 'firstclick-west';

describe('the first click on the local default shows decoded payloads', { timeout: 10 * 60_000 }, () => {
  let dir: string;
  let stack: DevStack;
  let workerConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  const world = new FakeFailoverWorld();
  const savedDataDir = process.env.KUBEHA_DATA_DIR;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-first-click-'));
    // The dev stack, the CLI and the stub worker share this data directory's generated codec keys, as
    // `npm start` and a terminal in the same project do.
    process.env.KUBEHA_DATA_DIR = dir;
    stack = await startDevStack({ dataDir: path.join(dir, 'temporal'), taskQueue: `first-click-kubeha-${process.pid}` });
    workerConnection = await NativeConnection.connect({ address: stack.address });
    worker = await Worker.create({
      connection: workerConnection,
      taskQueue: QUEUE,
      workflowBundle: await failoverBundle(),
      activities: world.allActivities(),
      dataConverter: kubehaDataConverter().dataConverter,
      shutdownGraceTime: '1 second',
    });
    running = worker.run();
    env = { TEMPORAL_ADDRESS: stack.address, KUBEHA_UI_URL: stack.uiUrl, KUBEHA_TASK_QUEUE: QUEUE, KUBEHA_DATA_DIR: dir };
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });
  after(async () => {
    await browser?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await workerConnection?.close();
    await stack?.stop();
    if (savedDataDir === undefined) delete process.env.KUBEHA_DATA_DIR;
    else process.env.KUBEHA_DATA_DIR = savedDataDir;
    rmSync(dir, { recursive: true, force: true });
  });

  test('the dev stack says its codec server decodes for this machine without login', () => {
    assert.ok(
      stack.lines.some((line) =>
        /codec server at http:\/\/127\.0\.0\.1:\d+ \(.*decodes for callers on this machine without login \(local dev mode\)/.test(line),
      ),
      stack.lines.join('\n'),
    );
    assert.ok(!stack.lines.some((line) => line.includes('/login')), 'no login step is asked for');
  });

  test('the printed link, opened in a fresh profile, shows input, current details and result decoded', async () => {
    const input = failoverInput({
      west: { name: WEST, kubeconfigSecret: 'clusters/west/admin-kubeconfig' },
      approval: { required: true, timeoutMinutes: 30, onTimeout: 'reject' },
    });
    const file = path.join(dir, 'failover.json');
    writeFileSync(file, JSON.stringify(input));
    const started = await runCli(['failover', 'start', '-f', file, '--detach'], env);
    assert.equal(started.code, 0, started.stderr);
    const link = /^Web UI: (\S+)$/m.exec(started.stdout)?.[1];
    if (!link?.startsWith(stack.uiUrl)) throw new Error(`no Web UI link of ${stack.uiUrl} printed:\n${started.stdout}`);

    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      const ui = new TemporalWebUi(await context.newPage(), stack.uiUrl, ARTIFACTS);
      await ui.page.goto(link);
      await ui.page.getByTestId('execution-status').waitFor();
      const shown = await ui.waitForInput(new RegExp(`"name": "${WEST}"`));
      assert.match(shown, /"kubeconfigSecret": "clusters\/west\/admin-kubeconfig"/);
      const details = await ui.currentDetails(/approval/i);
      assert.match(details, /FailoverToEast/);
      assert.equal(await ui.page.locator('[data-testid="data-encoder-status-error"]').filter({ visible: true }).count(), 0, 'no codec error');
      await ui.screenshot('01-first-click-decoded');

      const approved = await runCli(['failover', 'approve', `failover-${WEST}-to-east`, '--by', 'first-click'], env);
      assert.equal(approved.code, 0, approved.stderr);
      await eventually(async () => world.shiftRequests.includes(100), 60_000, 'traffic at east');
      assert.equal((await runCli(['failover', 'failback', `failover-${WEST}-to-east`], env)).code, 0);
      await ui.page.goto(link);
      await ui.waitForStatus('Completed', 120_000);
      // The Result panel decodes after the page loads: wait for the outcome to show.
      const result = await eventually(
        async () => {
          const text = await ui.editorText('Result', ui.page.getByTestId('input-and-result'));
          return /"outcome": "failed-back"/.test(text) ? text : undefined;
        },
        30_000,
        'the decoded result on the page',
      );
      assert.match(result, /"outcome": "failed-back"/);
      assert.equal(await ui.page.locator('[data-testid="data-encoder-status-error"]').filter({ visible: true }).count(), 0, 'no codec error');
      await ui.screenshot('02-first-click-result');
    } finally {
      await context.close();
    }
  });

  test("decoding stays closed to a page of another origin and open to this machine's scripts", async () => {
    const body = JSON.stringify({ payloads: [] });
    const headers = { 'Content-Type': 'application/json', 'X-Namespace': 'default' };
    const foreign = await fetch(`${stack.codecUrl}/decode`, { method: 'POST', headers: { ...headers, Origin: 'http://evil.example' }, body });
    assert.equal(foreign.status, 401);
    const local = await fetch(`${stack.codecUrl}/decode`, { method: 'POST', headers, body });
    assert.equal(local.status, 200);
  });
});
