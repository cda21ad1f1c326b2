/**
 * The Temporal Web UI in a real, headless Chromium (Debian's, through playwright-core; nothing is
 * downloaded), against what `kubeha dev` runs: the CLI's dev server with its own Web UI and
 * `--ui-codec-endpoint` set to kubeha's codec server, and kubeha's real worker. A small lab (west: one
 * control plane, one worker) is the world the worker acts on.
 *
 * An operator's path through the UI: log the browser in at the codec server, point the UI's codec
 * settings at it with cross-origin credentials, start BootstrapStackedEtcd from the Start Workflow form
 * with the input the lab wrote, watch the run complete, read its current details and its decoded input
 * (a browser without the login sees ciphertext), and approve a waiting FailoverToEast through the
 * Send an Update form. Screenshots of each stage go to test-artifacts/ui/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { chromium, type Browser, type Request } from 'playwright-core';
import type { BootstrapStackedEtcdInput } from '../../common/inputs/bootstrapStackedEtcd';
import type { FailoverStatus } from '../../common/inputs/failoverToEast';
import type { Progress } from '../../common/progress';
import type { LabUpResult } from '../../lab/orchestrator';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { projectRoot } from '../../lib/paths';
import type { BootstrapResult } from '../../workflows/bootstrap';
import type { FailoverResult } from '../../workflows/failover';
import { failoverInput, FakeFailoverWorld, notification } from '../failover/fakeFailoverWorld';
import { kubeadmRuns, startTestLab, type TestLab } from '../lab/e2e/support';
import { eventually } from '../support/workflowHarness';
import { startDevStack, type DevStack } from './support/devStack';
import { acceptedUpdateArgs, completedResult, encodingOf, ENCRYPTED_ENCODING, holdsInClear, startInput } from './support/history';
import { TemporalWebUi } from './support/temporalWebUi';
import { assertScreenshot, stubFailoverWorker, webUiTopology } from './support/webUiLab';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'ui');
const BOOTSTRAP_ID = `webui-bootstrap-west-${process.pid}`;
const FAILOVER_ID = `webui-failover-${process.pid}`;
const FAILOVER_QUEUE = `webui-failover-${process.pid}`;
const APPROVER = 'webui-operator';
/** How long the bootstrap of the small lab may take on a loaded 2-core machine before the test gives up. */
const BOOTSTRAP_DEADLINE_MS = 15 * 60_000;

describe('the Temporal Web UI on kubeha dev, in a real browser', { timeout: 30 * 60_000 }, () => {
  let testLab: TestLab | undefined;
  let dataDir: string;
  let lab: LabUpResult;
  let input: BootstrapStackedEtcdInput;
  let stack: DevStack;
  let connection: Connection;
  /** A client with kubeha's data converter: it reads what the worker and the UI (through the codec) wrote. */
  let client: Client;
  /** kubeha's payload codec, with the keys of this test's data directory. */
  let codec: ReturnType<typeof kubehaDataConverter>['codec'];
  let failoverConnection: NativeConnection;
  let failoverWorker: Worker;
  let failoverRunning: Promise<void>;
  const world = new FakeFailoverWorld();
  let browser: Browser;
  let ui: TemporalWebUi;
  const token = randomBytes(24).toString('base64url');
  const savedEnv = { ...process.env };

  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    // What `kubeha dev` reads: its data directory (codec keys, secrets; KUBEHA_DATA_DIR, set by the
    // test lab) and the codec server's access token.
    process.env.KUBEHA_CODEC_TOKEN = token;
    testLab = await startTestLab('webui', webUiTopology());
    ({ dataDir, lab } = testLab);
    input = JSON.parse(readFileSync(lab.state.inputs.west, 'utf8')) as BootstrapStackedEtcdInput;

    // The login flow a shared deployment needs: the local default (no login from this machine) is
    // test/ui/firstClick.test.ts.
    stack = await startDevStack({ dataDir: path.join(dataDir, 'temporal'), taskQueue: `kubeha-webui-${process.pid}`, codecAuth: true });
    connection = await Connection.connect({ address: stack.address });
    const converter = kubehaDataConverter();
    codec = converter.codec;
    client = new Client({ connection, dataConverter: converter.dataConverter });

    // FailoverToEast with stub activities, on a queue of its own; it decrypts what the UI encrypted.
    failoverConnection = await NativeConnection.connect({ address: stack.address });
    failoverWorker = await stubFailoverWorker(failoverConnection, FAILOVER_QUEUE, world);
    failoverRunning = failoverWorker.run();

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    ui = new TemporalWebUi(page, stack.uiUrl, ARTIFACTS);
  });

  after(async () => {
    await browser?.close();
    if (failoverWorker?.getState() === 'RUNNING') failoverWorker.shutdown();
    await failoverRunning?.catch(() => undefined);
    await failoverConnection?.close();
    await connection?.close();
    await stack?.stop();
    await testLab?.close();
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  test("the dev server serves the CLI's own Web UI, with Start Workflow on and kubeha's codec server as codec endpoint", async () => {
    const settings = (await (await fetch(`${stack.uiUrl}/api/v1/settings`)).json()) as {
      StartWorkflowDisabled: boolean;
      DisableWriteActions: boolean;
      WorkflowUpdateDisabled: boolean;
      Codec: { Endpoint: string; IncludeCredentials: boolean };
      Version: string;
    };
    assert.equal(settings.StartWorkflowDisabled, false);
    assert.equal(settings.DisableWriteActions, false);
    assert.equal(settings.WorkflowUpdateDisabled, false);
    assert.equal(settings.Codec.Endpoint, stack.codecUrl);
    assert.match(settings.Version, /^2\.\d+\.\d+$/);
    // Decoding is closed to a caller without the token: what the browser must be let in for.
    const anonymous = await fetch(`${stack.codecUrl}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default' },
      body: '{"payloads":[]}',
    });
    assert.equal(anonymous.status, 401);

    await ui.page.goto(`${stack.uiUrl}/namespaces/default/workflows`);
    await ui.page
      .getByRole('link', { name: 'Start Workflow' })
      .or(ui.page.getByRole('button', { name: 'Start Workflow' }))
      .first()
      .waitFor();
    assert.match(await ui.text(), /Workflows/);
    assert.match(await ui.text(), new RegExp(`\\b${settings.Version.replace(/\./g, '\\.')}\\b`), 'the page names the UI version the server reports');
  });

  test('the browser logs in at the codec server and the UI sends that login with its codec requests', async () => {
    const answer = await ui.logInToCodecServer(stack.codecUrl, token);
    assert.match(answer, /may now decode kubeha payloads/);
    const cookies = await ui.page.context().cookies(stack.codecUrl);
    assert.ok(
      cookies.some((c) => c.name === 'kubeha_codec_session' && c.httpOnly),
      `the session cookie is set: ${cookies.map((c) => c.name).join(', ')}`,
    );
    await ui.useCodecServerWithCredentials(stack.codecUrl);
    // The UI keeps its browser codec settings in localStorage (the page's own, evaluated there).
    const stored = await ui.page.evaluate<{ endpoint: string | null; includeCredentials: string | null }>(
      "({ endpoint: localStorage.getItem('endpoint'), includeCredentials: localStorage.getItem('includeCredentials') })",
    );
    assert.equal(stored.includeCredentials, 'true');
    assert.equal(JSON.parse(stored.endpoint ?? 'null'), stack.codecUrl);
  });

  test("BootstrapStackedEtcd started from the Start Workflow form with the lab's input completes on the lab", async (t) => {
    const handle = client.workflow.getHandle<() => Promise<BootstrapResult>>(BOOTSTRAP_ID);
    const encodeCalls: string[] = [];
    const watchEncode = (request: Request): void => {
      if (request.method() === 'POST' && request.url().startsWith(`${stack.codecUrl}/encode`)) encodeCalls.push(request.url());
    };
    ui.page.on('request', watchEncode);

    const flowStarted = Date.now();
    await ui.fillStartWorkflow({ workflowId: BOOTSTRAP_ID, taskQueue: stack.taskQueue, workflowType: 'BootstrapStackedEtcd', input });
    const typed = await ui.editorText('Data');
    assert.match(typed, /"clusterName": "west"/);
    assertScreenshot(await ui.screenshot('01-start-workflow-form'));
    assert.equal(await ui.submitStartWorkflow(), 'Workflow started successfully');
    const submittedMs = Date.now() - flowStarted;
    ui.page.off('request', watchEncode);
    await ui.openRun(BOOTSTRAP_ID);
    assert.ok(encodeCalls.length >= 1, 'the UI encrypted the input through the codec server before starting');

    await ui.waitForStatus('Completed', BOOTSTRAP_DEADLINE_MS, async () => {
      const progress = await handle.query<Progress>('progress').catch(() => undefined);
      const failed = progress?.steps.find((s) => s.state === 'failed');
      if (failed || progress?.phase === 'failed') throw new Error(`the run holds on a failed step: ${JSON.stringify(progress, null, 1)}`);
    });
    const uiFlowMs = Date.now() - flowStarted;
    t.diagnostic(
      `Web UI flow: form filled and submitted in ${(submittedMs / 1000).toFixed(1)} s; Completed shown ${(uiFlowMs / 1000).toFixed(1)} s after opening the form`,
    );
    assert.equal(await ui.executionStatus(), 'Completed');
    assert.match(await ui.text(), /BootstrapStackedEtcd/);
    assertScreenshot(await ui.screenshot('02-bootstrap-completed'));

    // The same run through a client: completed, with the lab's cluster.
    const description = await handle.describe();
    assert.equal(description.status.name, 'COMPLETED');
    assert.equal(description.type, 'BootstrapStackedEtcd');
    assert.equal(description.taskQueue, stack.taskQueue);
    const [received] = await codec.decode(startInput(await handle.fetchHistory()));
    assert.deepEqual(defaultPayloadConverter.fromPayload(received), input, "the run got the lab's input exactly as typed into the form");
    const result = await handle.result();
    assert.equal(result.clusterName, 'west');
    assert.deepEqual(result.controlPlanes, ['webui-cp-1']);
    assert.deepEqual(result.workers, ['webui-worker-1']);
    assert.equal(result.etcd.members, 1);
    assert.equal((await handle.query<Progress>('progress')).phase, 'succeeded');
    // And from the lab's own records: one kubeadm init on the control plane, one join on the worker.
    assert.equal(kubeadmRuns(lab.paths.labDir, 'webui-cp-1', 'init'), 1);
    assert.equal(kubeadmRuns(lab.paths.labDir, 'webui-worker-1', 'join'), 1);
  });

  test("the run's page shows its current details and its input decoded through the codec server; history holds ciphertext", async () => {
    await ui.openRun(BOOTSTRAP_ID);
    const shown = await ui.waitForInput(/"clusterName": "west"/);
    assert.match(shown, /"clusterName": "west"/);
    assert.ok(shown.includes(input.loadBalancer.name), `the decoded input names the load balancer ${input.loadBalancer.name}`);
    assert.equal(await ui.page.locator('[data-testid="data-encoder-status-success"]').filter({ visible: true }).count(), 1, 'the codec status says decoded');
    assertScreenshot(await ui.screenshot('03-decoded-input'));

    const details = await ui.currentDetails(/BootstrapStackedEtcd[\s\S]*verify/);
    assert.match(details, /BootstrapStackedEtcd/);
    assert.match(details, /succeeded/);
    for (const step of ['ensure-load-balancer', 'init-primary', 'join-workers', 'verify'])
      assert.match(details, new RegExp(`${step} done`), `step ${step} is done`);
    assert.match(details, /webui-cp-1/);
    assertScreenshot(await ui.screenshot('04-current-details'));

    // What the server stores: the input and the result are ciphertext, nothing of them in clear.
    const history = await client.workflow.getHandle(BOOTSTRAP_ID).fetchHistory();
    const payloads = [...startInput(history), ...completedResult(history)];
    assert.equal(payloads.length, 2);
    for (const payload of payloads) {
      assert.equal(encodingOf(payload), ENCRYPTED_ENCODING);
      for (const clear of ['clusterName', input.loadBalancer.name, 'webui-cp-1'])
        assert.equal(holdsInClear(payload, clear), false, `"${clear}" is not in clear in history`);
    }
  });

  test('a browser without the codec login sees the same input as ciphertext', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      const stranger = new TemporalWebUi(await context.newPage(), stack.uiUrl, ARTIFACTS);
      await stranger.useCodecServerWithCredentials(stack.codecUrl);
      await stranger.openRun(BOOTSTRAP_ID);
      await stranger.page.locator('[data-testid="data-encoder-status-error"]').filter({ visible: true }).waitFor();
      const shown = await stranger.inputText();
      assert.doesNotMatch(shown, /clusterName/);
      assert.ok(!shown.includes(input.loadBalancer.name));
      assert.match(shown, /^"[A-Za-z0-9+/=]{64,}"$/, `the input is shown as base64 ciphertext: ${shown.slice(0, 80)}`);
      assertScreenshot(await stranger.screenshot('05-input-without-codec-login'));
    } finally {
      await context.close();
    }
  });

  test('FailoverToEast waiting for approval is approved from the Send an Update form', async () => {
    const started = await client.workflow.signalWithStart('FailoverToEast', {
      args: [failoverInput({ approval: { required: true, timeoutMinutes: 30, onTimeout: 'reject' } })],
      taskQueue: FAILOVER_QUEUE,
      workflowId: FAILOVER_ID,
      signal: 'alert',
      signalArgs: [notification('firing')],
    });
    const handle: WorkflowHandle = client.workflow.getHandle(FAILOVER_ID, started.signaledRunId);
    const status = () => handle.query<FailoverStatus>('status');
    await eventually(async () => (await status()).state === 'awaiting-approval', 30_000, 'awaiting-approval');

    await ui.openRun(FAILOVER_ID);
    assert.equal(await ui.executionStatus(), 'Running');
    const waiting = await ui.currentDetails(/waiting for: approval/);
    assert.match(waiting, /waiting for: approval/);
    assert.match(waiting, /state: awaiting-approval/);
    assertScreenshot(await ui.screenshot('06-failover-awaiting-approval'));

    const form = await ui.openUpdate('approval', { decision: 'approve', by: APPROVER, comment: 'approved in the Web UI' });
    assert.match(await ui.editorText('Data', form), new RegExp(`"by": "${APPROVER}"`));
    assertScreenshot(await ui.screenshot('07-approval-update-form'));
    await ui.submit(form);

    const approved = await eventually(
      async () => {
        const s = await status();
        return s.state === 'failed-over' ? s : undefined;
      },
      30_000,
      'failed-over after the approval',
    );
    assert.equal(approved.approvedBy, APPROVER);
    assert.ok(
      approved.decisions.some((d) => d.what === 'Approved' && d.why.includes(`${APPROVER}: approved in the Web UI`)),
      JSON.stringify(approved.decisions),
    );
    assert.deepEqual(world.shiftRequests, [50, 100]);
    // The UI encrypted the update's argument through the codec server: history has no approver in clear.
    const args = acceptedUpdateArgs(await handle.fetchHistory(), 'approval');
    assert.equal(args.length, 1);
    assert.equal(encodingOf(args[0]), ENCRYPTED_ENCODING);
    assert.equal(holdsInClear(args[0], APPROVER), false);

    await ui.page.reload();
    const after = await ui.currentDetails(/state: failed-over/);
    assert.match(after, /state: failed-over/);
    assert.match(after, new RegExp(`approve done \\(Succeeded: by ${APPROVER}\\)`));
    assertScreenshot(await ui.screenshot('08-failover-approved'));

    await handle.signal('failback', { by: APPROVER });
    const result = (await handle.result()) as FailoverResult;
    assert.equal(result.outcome, 'failed-back');
  });
});
