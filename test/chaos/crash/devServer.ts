/**
 * A file-backed Temporal dev server (`temporal server start-dev --db-filename F`) that a campaign can
 * kill and start again on the same port and database: runs in flight must survive it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../../common/searchAttributes';
import { temporalCliPath } from '../../../lib/paths';
import { freePort } from '../../../lib/freePort';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A dev server process with its database file; `restart` keeps both the port and the database. */
export class FileBackedDevServer {
  private process?: ChildProcess;
  private output = '';

  private constructor(
    readonly dbFile: string,
    readonly port: number,
  ) {}

  /** The gRPC address clients and workers use. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts a server on a free port with its database at `dbFile`. */
  static async start(dbFile: string): Promise<FileBackedDevServer> {
    const server = new FileBackedDevServer(dbFile, await freePort());
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const attributes = Object.values(SEARCH_ATTRIBUTES).flatMap((a) => ['--search-attribute', `${a.name}=Keyword`]);
    const args = [
      'server',
      'start-dev',
      '--db-filename',
      this.dbFile,
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--headless',
      '--log-level',
      'error',
      ...attributes,
    ];
    this.output = '';
    const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (this.output = (this.output + c.toString('utf8')).slice(-4000)));
    child.stderr!.on('data', (c: Buffer) => (this.output = (this.output + c.toString('utf8')).slice(-4000)));
    this.process = child;
    await this.untilServing(90_000);
  }

  /** Waits until the frontend answers GetSystemInfo. */
  private async untilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.process?.exitCode !== null) throw new Error(`the dev server exited: ${this.output}`);
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 2000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return;
        } finally {
          await connection.close();
        }
      } catch {
        if (Date.now() > deadline) throw new Error(`the dev server did not answer within ${timeoutMs} ms: ${this.output}`);
        await sleep(300);
      }
    }
  }

  /** Kills the server as a crash would (SIGKILL) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  /** Starts the server again on the same port and database. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
