/**
 * `kubeha dev` in this process, on free ports: the same services the command runs (client/commands/dev.ts
 * `devServices`): kubeha's codec server, the Temporal dev server with its Web UI pointed at that codec
 * server, and kubeha's real worker. Resolves once the worker polls.
 */
import { devServices } from '../../../client/commands/dev';
import { runLocalStack, type StackContext } from '../../../client/localStack';
import { freePort } from '../../../lib/freePort';

/** A running `kubeha dev`. */
export interface DevStack {
  /** host:port of the Temporal frontend. */
  address: string;
  /** The Web UI's base URL. */
  uiUrl: string;
  /** kubeha's codec server (what the dev server got as `--ui-codec-endpoint`). */
  codecUrl: string;
  /** The task queue kubeha's worker polls. */
  taskQueue: string;
  /** What the stack said while starting (the operator's lines). */
  lines: string[];
  /** Stops the worker, the dev server and the codec server, in that order. */
  stop(): Promise<void>;
}

/**
 * Starts `kubeha dev`'s services with `dataDir` for the dev server's SQLite file. The codec keys and
 * the codec access token come from the environment, as for the command (KUBEHA_DATA_DIR, KUBEHA_CODEC_TOKEN).
 */
export async function startDevStack(options: { dataDir: string; taskQueue: string; startTimeoutMs?: number; codecAuth?: boolean }): Promise<DevStack> {
  const [port, uiPort, codecPort] = [await freePort(), await freePort(), await freePort()];
  const lines: string[] = [];
  let workerPolls: () => void = () => undefined;
  const polling = new Promise<void>((resolve) => (workerPolls = resolve));
  const context: StackContext = {
    settings: { address: '', namespace: 'default', taskQueue: options.taskQueue, uiUrl: '' },
    say: (line) => {
      lines.push(line);
      if (line.startsWith('worker polling')) workerPolls();
    },
  };
  const stopper = new AbortController();
  const services = devServices({ dataDir: options.dataDir, port, uiPort, codecPort, worker: true, codec: true, codecAuth: options.codecAuth });
  const running = runLocalStack(services, context, stopper.signal);
  const stop = async (): Promise<void> => {
    stopper.abort();
    await running.catch(() => undefined);
  };
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      polling,
      running.then(() => Promise.reject(new Error('kubeha dev stopped while starting'))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`kubeha dev did not start within ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n  it said:\n    ${lines.join('\n    ')}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
  return {
    address: context.settings.address,
    uiUrl: context.settings.uiUrl,
    codecUrl: `http://127.0.0.1:${codecPort}`,
    taskQueue: options.taskQueue,
    lines,
    stop,
  };
}
