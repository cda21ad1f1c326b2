/**
 * The worker process's logging: the Temporal runtime (worker, workflow bundler, activity and workflow
 * `log`, the Rust core's forwarded lines) writes through kubeha's pino logger at the level in force.
 */
import { IllegalStateError } from '@temporalio/common';
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { createLogger, type KubehaLogLevel, sdkLogger } from '../lib/logging';

const CORE_LEVEL: Record<KubehaLogLevel, 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  silent: 'ERROR',
};

/**
 * Installs the Temporal runtime with kubeha's logger. Must run before anything else in the process
 * uses the runtime; returns false (changing nothing) when a runtime is already installed, as in a test
 * that installed its own.
 */
export function installWorkerLogging(level: KubehaLogLevel, stream?: NodeJS.WritableStream & { isTTY?: boolean }): boolean {
  const logger = createLogger({ name: 'kubeha-worker', level, stream });
  try {
    Runtime.install({
      logger: sdkLogger(logger),
      telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: CORE_LEVEL[level], other: CORE_LEVEL[level] }) } },
    });
    return true;
  } catch (err) {
    if (err instanceof IllegalStateError) return false;
    throw err;
  }
}
