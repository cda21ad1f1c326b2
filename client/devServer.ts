/**
 * The Temporal dev server (`temporal server start-dev`) as a child process: SQLite persistence in
 * kubeha's data directory, the Web UI, and kubeha's search attributes registered. Used by `kubeha dev`,
 * `kubeha start` (npm start) and the local lab.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../common/searchAttributes';
import { temporalCliPath } from '../lib/paths';

/** How to start the dev server. */
export interface DevServerOptions {
  /** Directory of the SQLite file `temporal.sqlite` and the server log `temporal-dev.log`. Created if missing. */
  dataDir: string;
  /** Address the frontend and the UI bind to. Default 127.0.0.1. */
  ip?: string;
  /** gRPC frontend port. Default 7233. */
  port?: number;
  /** Web UI port. Default 8233. */
  uiPort?: number;
  /** Server log level. Default `warn`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for the frontend to answer. Default 60 s (the first start creates the SQLite schema). */
  readyTimeoutMs?: number;
  /** The Temporal CLI; default {@link temporalCliPath}. */
  cliPath?: string;
  /** The codec server the Web UI decodes payloads through (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
}

/** A running dev server. */
export interface DevServer {
  /** host:port of the gRPC frontend. */
  address: string;
  /** The Web UI's base URL. */
  uiUrl: string;
  /** The server process id. */
  pid: number;
  /** Where the server's output goes. */
  logFile: string;
  /** Settles when the server process exits, for whatever reason; resolves to its exit code or signal. */
  exited: Promise<number | string>;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and waits until it is gone. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_PORT = 7233;
const DEFAULT_UI_PORT = 8233;
/** Time the server gets to shut down on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** The CLI's `--search-attribute` type names for the SDK's search attribute types. */
const CLI_ATTRIBUTE_TYPE: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** kubeha's search attributes as `Name=Type` pairs, the form the CLI (and `temporal operator`) takes. */
export function searchAttributeArgs(): string[] {
  return Object.values(SEARCH_ATTRIBUTES).map((key) => `${key.name}=${CLI_ATTRIBUTE_TYPE[key.type]}`);
}

const helpCache = new Map<string, string>();

/** Whether this CLI version's `server start-dev` knows a flag (flags were added over releases). */
export function devServerSupportsFlag(cliPath: string, flag: string): boolean {
  let help = helpCache.get(cliPath);
  if (help === undefined) {
    try {
      help = execFileSync(cliPath, ['server', 'start-dev', '--help'], { encoding: 'utf8', timeout: 15_000 });
    } catch {
      help = '';
    }
    helpCache.set(cliPath, help);
  }
  return new RegExp(`(^|\\s)${flag.replace(/[-]/g, '\\-')}(\\s|=|$)`, 'm').test(help);
}

/** The arguments of `temporal` for a dev server with these options. */
export function devServerArgs(options: DevServerOptions, cliPath: string): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    options.ip ?? '127.0.0.1',
    '--port',
    String(options.port ?? DEFAULT_PORT),
    '--ui-port',
    String(options.uiPort ?? DEFAULT_UI_PORT),
    '--db-filename',
    path.join(options.dataDir, 'temporal.sqlite'),
    '--log-level',
    options.logLevel ?? 'warn',
  ];
  // The newsfeed is fetched from the internet; kubeha's machines may have none.
  if (devServerSupportsFlag(cliPath, '--ui-disable-news-fetch')) args.push('--ui-disable-news-fetch');
  if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const attribute of searchAttributeArgs()) args.push('--search-attribute', attribute);
  return args;
}

/**
 * Starts the dev server and resolves once its frontend answers and the `default` namespace exists.
 * Rejects, with the tail of the server's output, when it exits first or does not answer in time; the
 * process is stopped in that case. The process is also killed when this Node process exits, so it is
 * never left behind.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  try {
    return await launchDevServer(options);
  } catch (err) {
    // The CLI's dev server can panic on start right after a previous one stopped on the same data dir
    // (seen as exit 2 with a Go panic); a second start then works. Anything else is reported as is.
    if (!(err instanceof DevServerPanic)) throw err;
    await delay(1000);
    return launchDevServer(options);
  }
}

/** The dev server exited with a Go panic before it answered. */
class DevServerPanic extends Error {}

async function launchDevServer(options: DevServerOptions): Promise<DevServer> {
  const cliPath = options.cliPath ?? temporalCliPath();
  const ip = options.ip ?? '127.0.0.1';
  const address = `${ip}:${options.port ?? DEFAULT_PORT}`;
  const uiUrl = `http://${ip}:${options.uiPort ?? DEFAULT_UI_PORT}`;
  mkdirSync(options.dataDir, { recursive: true });
  const logFile = path.join(options.dataDir, 'temporal-dev.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const tail: string[] = [];
  // Its own process group: a Ctrl-C in the terminal reaches kubeha only, which stops the worker first
  // and the server after it, instead of both dying at once.
  const child = spawn(cliPath, devServerArgs(options, cliPath), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let sawPanic = false;
  const remember = (chunk: Buffer): void => {
    log.write(chunk);
    if (/^panic: |goroutine \d+ \[running\]/m.test(chunk.toString('utf8'))) sawPanic = true;
    tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);

  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (err) => {
      tail.push(err.message);
      resolve('spawn-error');
    });
  });
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  exited.finally(() => {
    process.off('exit', killOnExit);
    log.end();
  });

  let stopping: Promise<void> | undefined;
  const server: DevServer = {
    address,
    uiUrl,
    pid: child.pid ?? -1,
    logFile,
    exited,
    stop: () => (stopping ??= stopChild(child, exited)),
  };

  try {
    await waitUntilReady(address, exited, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await server.stop();
    const why = err instanceof Error ? err.message : String(err);
    const panicked = (await exited) === 2 && sawPanic;
    throw new (panicked ? DevServerPanic : Error)(
      `the Temporal dev server (${cliPath}) did not start: ${why}${tail.length ? `\n  last output:\n    ${tail.join('\n    ')}` : ''}\n  full log: ${logFile}`,
      { cause: err },
    );
  }
  return server;
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    await exited;
    return;
  }
  child.kill('SIGTERM');
  // The grace timer is cancelled once the server is gone, so it does not hold the process open.
  const grace = new AbortController();
  const graceful = await Promise.race([exited.then(() => true), delay(STOP_GRACE_MS, false, { signal: grace.signal }).catch(() => false)]);
  grace.abort();
  if (!graceful) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Polls the frontend until `default` can be described, the process exits, or the deadline passes. */
async function waitUntilReady(address: string, exited: Promise<number | string>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone: number | string | undefined;
  void exited.then((code) => (gone = code));
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`it exited (${gone}) before answering`);
    // Lazy, then connected: a failed `Connection.connect` would leave its channel open behind it.
    const connection = Connection.lazy({ address, connectTimeout: 2_000 });
    try {
      await connection.ensureConnected();
      // The frontend answers before the namespace is registered; workers and clients need the namespace.
      await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.describeNamespace({ namespace: 'default' }));
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    } finally {
      await connection.close();
    }
    await Promise.race([delay(250), exited]);
  }
  throw new Error(`no answer at ${address} within ${Math.round(timeoutMs / 1000)} s (${lastError})`);
}
