/**
 * A local stack: a list of services started in order (the Temporal dev server, the worker, later the
 * lab), kept running until Ctrl-C or until one of them ends, then stopped in reverse order. `kubeha dev`
 * and `kubeha start` are lists of these.
 */
import { temporalConnectionOptions } from './connection';
import type { TemporalSettings } from '../lib/config';
import { type KubehaLogLevel, logLevel } from '../lib/logging';
import { startDevServer, type DevServerOptions } from './devServer';

/** What services share while the stack starts: later services see what earlier ones set up. */
export interface StackContext {
  /** Where Temporal is; the dev server service points it at itself. */
  settings: TemporalSettings;
  /** Prints a line for the operator. */
  say(line: string): void;
}

/** A service that runs until stopped. */
export interface RunningService {
  /** Settles when the service ends on its own (a crash or an exit); the stack then stops the others. */
  ended: Promise<unknown>;
  /** Stops it and waits until it is gone. */
  stop(): Promise<void>;
}

/** One entry of a stack. */
export interface LocalService {
  name: string;
  start(context: StackContext): Promise<RunningService>;
}

/** The Temporal dev server; points the stack's settings at it. */
export function devServerService(options: DevServerOptions): LocalService {
  return {
    name: 'temporal',
    async start(context) {
      const server = await startDevServer(options);
      context.settings = { ...context.settings, address: server.address, uiUrl: server.uiUrl };
      context.say(`Temporal dev server (pid ${server.pid}) at ${server.address}, log ${server.logFile}`);
      context.say(`Temporal Web UI: ${server.uiUrl}`);
      const ended = server.exited.then((code) => Promise.reject(new Error(`the Temporal dev server exited (${code}); see ${server.logFile}`)));
      ended.catch(() => undefined); // observed by runLocalStack; this only keeps it from counting as unhandled meanwhile
      return { ended, stop: () => server.stop() };
    },
  };
}

/**
 * kubeha's worker, in this process. Resolves its start once the workflow bundle is built and the worker
 * polls. Logs at `logLevel` (default: KUBEHA_LOG_LEVEL, else warn), so the bundler's report stays out of
 * the operator's terminal unless asked for.
 */
export function workerService(level: KubehaLogLevel = logLevel()): LocalService {
  return {
    name: 'worker',
    async start(context) {
      // Loaded on demand: the worker pulls in every activity's client library, which other commands do not need.
      const [{ createWorker }, { NativeConnection }, { installWorkerLogging }] = await Promise.all([
        import('../worker/index.js'),
        import('@temporalio/worker'),
        import('../worker/logging.js'),
      ]);
      installWorkerLogging(level);
      // TLS, client certificate and API key from temporal.toml / TEMPORAL_* (client/connection.ts); the address is the stack's.
      const connection = await NativeConnection.connect({ ...temporalConnectionOptions(context.settings), address: context.settings.address });
      let worker;
      try {
        worker = await createWorker({ settings: context.settings, connection });
      } catch (err) {
        await connection.close();
        throw err;
      }
      const running = worker.run().finally(() => connection.close());
      running.catch(() => undefined); // observed by runLocalStack; this only keeps it from counting as unhandled meanwhile
      context.say(`worker polling task queue "${context.settings.taskQueue}" in namespace "${context.settings.namespace}"`);
      return {
        ended: running,
        stop: async () => {
          // The SDK also stops workers on SIGINT/SIGTERM by itself; a second shutdown() would throw.
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
        },
      };
    },
  };
}

/** A service that only prints lines once the services before it run (instructions, links). */
export function noticeService(name: string, lines: (context: StackContext) => string[]): LocalService {
  return {
    name,
    async start(context) {
      for (const line of lines(context)) context.say(line);
      return { ended: new Promise(() => undefined), stop: async () => undefined };
    },
  };
}

/** What ends a stack: a signal (clean stop) or a service that ended on its own (an error). */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Starts the services in order and runs until SIGINT/SIGTERM/SIGHUP (or `stopSignal`) or until a
 * service ends; then stops every started service in reverse order. Rejects when a service failed to
 * start or ended on its own.
 */
export async function runLocalStack(services: LocalService[], context: StackContext, stopSignal?: AbortSignal): Promise<void> {
  const started: { name: string; service: RunningService }[] = [];
  const stopRequested = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopRequested.signal.aborted) context.say(`${signal}: stopping`);
    stopRequested.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  stopSignal?.addEventListener('abort', () => stopRequested.abort(), { once: true });
  let failure: unknown;
  try {
    for (const entry of services) {
      if (stopRequested.signal.aborted || stopSignal?.aborted) break;
      started.push({ name: entry.name, service: await entry.start(context) });
    }
    if (!stopRequested.signal.aborted && !stopSignal?.aborted) {
      const stopped = new Promise<void>((resolve) => stopRequested.signal.addEventListener('abort', () => resolve(), { once: true }));
      const endings = started.map(({ name, service }) =>
        service.ended.then(
          () => Promise.reject(new Error(`${name} stopped on its own`)),
          (err: unknown) => Promise.reject(err instanceof Error ? err : new Error(`${name}: ${String(err)}`)),
        ),
      );
      await Promise.race([stopped, ...endings]);
    }
  } catch (err) {
    failure = err;
  } finally {
    for (const { name, service } of started.reverse()) {
      try {
        await service.stop();
      } catch (err) {
        context.say(`stopping ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  if (failure) throw failure;
}
