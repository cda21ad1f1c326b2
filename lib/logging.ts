/**
 * kubeha's process logs: pino, as JSON lines when the output is not a terminal (a log collector reads
 * them) and as short readable lines when it is. The Temporal SDK's own logger (the worker, the workflow
 * bundler, activities' `log`) is routed through the same logger, at `warn` unless asked for more, so
 * `npm start` and `kubeha worker` print the steps and real problems, not the bundler's report.
 */
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import pino, { type Logger, type LevelWithSilent } from 'pino';

/** Levels an operator may ask for (KUBEHA_LOG_LEVEL, `--verbose`). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type KubehaLogLevel = (typeof LOG_LEVELS)[number];

/**
 * The level in force: KUBEHA_LOG_LEVEL when set (a bad value is an error naming the variable), else
 * `info` with `--verbose`, else `warn`.
 */
export function logLevel(env: NodeJS.ProcessEnv = process.env, verbose = false): KubehaLogLevel {
  const asked = env.KUBEHA_LOG_LEVEL?.trim().toLowerCase();
  if (asked) {
    if (!(LOG_LEVELS as readonly string[]).includes(asked))
      throw new Error(`KUBEHA_LOG_LEVEL="${env.KUBEHA_LOG_LEVEL}" must be one of ${LOG_LEVELS.join(', ')}`);
    return asked as KubehaLogLevel;
  }
  return verbose ? 'info' : 'warn';
}

/** Where and how a logger writes. */
export interface LoggerOptions {
  name: string;
  level: KubehaLogLevel;
  /** Default: standard error. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Readable lines instead of JSON; default: whether the stream is a terminal. */
  readable?: boolean;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One JSON log line as a readable one: `12:03:04 WARN message key=value`. */
export function readableLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, ...rest } = entry;
  // Process facts are for collectors; a person at the terminal knows them.
  for (const key of ['pid', 'hostname', 'name']) delete rest[key];
  const clock = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${clock} ${LEVEL_NAMES[level as number] ?? String(level)} ${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
}

/** A pino logger writing JSON lines, or readable lines on a terminal. */
export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  const readable = options.readable ?? Boolean(stream.isTTY);
  const destination = readable ? { write: (line: string) => void stream.write(readableLine(line)) } : stream;
  return pino({ name: options.name, level: options.level as LevelWithSilent }, destination);
}

const SDK_TO_PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The Temporal SDK's Logger interface over a pino logger (for `Runtime.install({ logger })`). */
export function sdkLogger(logger: Logger): SdkLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    const method = SDK_TO_PINO[level] ?? 'info';
    if (meta && Object.keys(meta).length > 0) logger[method](meta, message);
    else logger[method](message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
