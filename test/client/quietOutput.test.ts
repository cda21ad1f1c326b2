/**
 * Quiet, honest output: the worker logs through pino at warn unless asked for more (no bundler report
 * among the steps), JSON lines when not on a terminal, readable lines on one, and one line about an
 * unsupported Node instead of the AWS SDK's eight.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { sayNodeSupport } from '../../client/commands/dev';
import { startDevServer, type DevServer } from '../../client/devServer';
import { freePort } from '../../lib/freePort';
import { createLogger, logLevel, readableLine, sdkLogger } from '../../lib/logging';
import { collect, OutputWatch, spawnCli } from './cliProcess';

function capture(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = isTTY;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

describe('log level and format', () => {
  test('warn by default, info with --verbose, KUBEHA_LOG_LEVEL over both, a bad value named', () => {
    assert.equal(logLevel({}), 'warn');
    assert.equal(logLevel({}, true), 'info');
    assert.equal(logLevel({ KUBEHA_LOG_LEVEL: 'DEBUG' }, false), 'debug');
    assert.equal(logLevel({ KUBEHA_LOG_LEVEL: 'error' }, true), 'error');
    assert.throws(() => logLevel({ KUBEHA_LOG_LEVEL: 'loud' }), /KUBEHA_LOG_LEVEL="loud" must be one of trace, debug, info, warn, error, silent/);
  });

  test('JSON lines off a terminal, readable lines on one; below the level nothing', async () => {
    const json = capture(false);
    const logger = sdkLogger(createLogger({ name: 'test', level: 'warn', stream: json.stream }));
    logger.info('Workflow bundle created', { size: '1.2MB' });
    logger.warn('activity retried', { step: 'join-control-plane', attempt: 2 });
    await new Promise((r) => setImmediate(r));
    const lines = json.text().trim().split('\n');
    assert.equal(lines.length, 1, json.text());
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(entry.msg, 'activity retried');
    assert.equal(entry.level, 40);
    assert.equal(entry.step, 'join-control-plane');

    const tty = capture(true);
    createLogger({ name: 'test', level: 'info', stream: tty.stream }).info({ host: 'cp-2' }, 'joined');
    await new Promise((r) => setImmediate(r));
    assert.match(tty.text(), /^\d\d:\d\d:\d\d INFO joined host=cp-2\n$/);
    assert.equal(readableLine('not json'), 'not json');
  });

  test("an old Node gets one line naming the supported versions, and the SDK's own warning is off", () => {
    const said: string[] = [];
    const before = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    try {
      sayNodeSupport('24.1.0', (line) => said.push(line));
      assert.equal(said.length, 0, 'a supported Node says nothing');
      sayNodeSupport('20.20.2', (line) => said.push(line));
      assert.equal(said.length, 1);
      assert.match(said[0], /^note: Node\.js 20\.20\.2 is past its end of life; run kubeha on Node\.js 22 or 24/);
      assert.equal(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, 'true');
    } finally {
      if (before === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
      else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = before;
    }
  });
});

describe('kubeha worker output', { timeout: 300_000 }, () => {
  let dir: string;
  let server: DevServer;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-quiet-'));
    server = await startDevServer({ dataDir: dir, port: await freePort(), uiPort: await freePort(), logLevel: 'error' });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function workerOutput(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const keys = `quiet:${randomBytes(32).toString('base64')}`;
    const worker = spawnCli(['worker', ...args], {
      TEMPORAL_ADDRESS: server.address,
      KUBEHA_TASK_QUEUE: `quiet-${args.join('-') || 'default'}`,
      KUBEHA_CODEC_KEYS: keys,
      ...env,
    });
    const ended = collect(worker, 180_000);
    try {
      await new OutputWatch(worker).waitFor(/worker polling task queue/, 150_000);
    } finally {
      worker.kill('SIGTERM');
    }
    const run = await ended;
    assert.equal(run.code, 0, run.stderr);
    return run.stdout + run.stderr;
  }

  test('by default: no bundler report, the polling line, JSON only for what is logged', async () => {
    const output = await workerOutput([]);
    assert.match(output, /worker polling task queue "quiet-default"/);
    assert.doesNotMatch(output, /Workflow bundle created|webpack|modules by path|asset workflow-bundle/i);
    assert.doesNotMatch(output, /NodeVersionSupportWarning/);
  });

  test("--verbose brings the bundler's lines back, as JSON off a terminal", async () => {
    const output = await workerOutput(['--verbose']);
    const bundled = output.split('\n').find((line) => line.includes('Workflow bundle created'));
    assert.ok(bundled, output);
    assert.equal((JSON.parse(bundled) as { level: number }).level, 30);
  });
});
