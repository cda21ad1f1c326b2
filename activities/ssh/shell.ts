/**
 * The ssh2 implementation of {@link RemoteShell}: key authentication, pinned or trust-on-first-use
 * host keys, one pooled connection per (user, address, port), and commands that really stop on
 * timeout or cancellation.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import type { HostSpec } from '../../common/inputs/shared';
import { resolveSecretRef } from '../secrets/store';
import { ChannelSlots } from './channelSlots';
import { cancellation, commandLabel, exitCodeOfSignal, exitStatus, openExec, usesSudo } from './channels';
import { ConnectionPool, type ShellLogger } from './connections';
import { commandFailure, commandTimeout, unreachable } from './failures';
import { FileKnownHostsStore, type KnownHostsStore } from './knownHosts';
import { redact, StreamRedactor, TailBuffer } from './output';
import { asSuperuser, killGroupScript, MISSING_FILE_EXIT, PGID_MARKER, readFileScript, withPgidReport, writeFileScript } from './quote';
import type { CommandResult, RemoteCommand, RemoteShell, RunOptions } from './types';

/** What {@link createSshShell} can be given; every field has a default. */
export interface SshShellDeps {
  /** Resolves the private key of a host. Default: {@link resolveSecretRef} on `host.ssh.privateKey`. */
  privateKey?: (host: HostSpec) => Promise<string>;
  /** Trust-on-first-use memory. Default: `<dataDir>/known_hosts.json`. */
  knownHosts?: KnownHostsStore;
  logger?: ShellLogger;
  /** Bytes of stdout, and of stderr, a command result keeps (the last ones). Default 1 MiB. */
  outputLimitBytes?: number;
  /** How often `RunOptions.onTick` is called while a command runs. Default 5 s. */
  tickIntervalMs?: number;
  /** Seconds between SSH keepalives. Default 15. */
  keepaliveSeconds?: number;
  /** Commands running at once on one connection; more wait their turn. Default 8 (sshd allows 10 channels). */
  channelLimit?: number;
}

interface OpenChannel {
  client: Client;
  channel: ClientChannel;
  /** Gives the channel slot back; called once the channel closed. */
  release: () => void;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;
/** readFile must return whole files, so it keeps far more than a command's output. */
const READ_FILE_LIMIT = 64 * 1024 * 1024;
/** Commands running at once on one connection; OpenSSH's MaxSessions defaults to 10, and kills need a channel too. */
const DEFAULT_CHANNEL_LIMIT = 8;
const CHANNEL_REFUSAL_RETRIES = 40;
const CHANNEL_REFUSAL_PAUSE_MS = 250;
/** How long a stop waits for the wrapper to report its process group, and for the kill to finish. */
const PGID_WAIT_MS = 2000;
const KILL_WAIT_MS = 15_000;

/** Builds the SSH {@link RemoteShell}. Call `close()` when done (worker shutdown, end of tests). */
export function createSshShell(deps: SshShellDeps = {}): RemoteShell {
  const logger = deps.logger;
  const pool = new ConnectionPool({
    privateKey: deps.privateKey ?? ((host) => resolveSecretRef(host.ssh.privateKey)),
    knownHosts: deps.knownHosts ?? new FileKnownHostsStore(),
    logger,
    keepaliveSeconds: deps.keepaliveSeconds,
  });
  const tickIntervalMs = deps.tickIntervalMs ?? 5000;
  const channelLimit = deps.channelLimit ?? DEFAULT_CHANNEL_LIMIT;
  const channelSlots = new WeakMap<Client, ChannelSlots>();

  /** The channel slots of a connection; a new connection gets fresh ones. */
  function slotsOf(client: Client): ChannelSlots {
    let slots = channelSlots.get(client);
    if (!slots) {
      slots = new ChannelSlots(channelLimit);
      channelSlots.set(client, slots);
    }
    return slots;
  }

  /**
   * Opens a channel for a command. A reused connection found dead is replaced once; a channel the
   * server refuses (its MaxSessions is lower than our limit) is asked for again a little later.
   */
  async function openChannel(host: HostSpec, wire: string): Promise<OpenChannel> {
    let replaced = false;
    for (let refusals = 0; ;) {
      const { client, fresh } = await pool.get(host);
      const release = await slotsOf(client).acquire();
      try {
        return { client, channel: await openExec(client, wire), release };
      } catch (err) {
        release();
        const refusedByServer = typeof (err as { reason?: unknown }).reason === 'number';
        if (refusedByServer && refusals < CHANNEL_REFUSAL_RETRIES) {
          refusals += 1;
          await new Promise((r) => setTimeout(r, CHANNEL_REFUSAL_PAUSE_MS));
          continue;
        }
        if (refusedByServer || fresh || replaced) throw unreachable(host, 'cannot start a command on', err as Error);
        pool.discard(host, client);
        replaced = true;
      }
    }
  }

  /** Stops a remote process group: TERM, grace, KILL, through a second channel of the same connection. */
  async function killGroup(host: HostSpec, client: Client, pgid: number, sudo: boolean): Promise<void> {
    // No slot: the kill must not queue behind the commands it is meant to stop.
    const channel = await openExec(client, asSuperuser(killGroupScript(pgid), sudo));
    channel.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, KILL_WAIT_MS);
      channel.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      channel.resume();
      channel.stderr.resume();
      channel.end();
    });
    logger?.debug({ host: host.name, pgid }, 'stopped remote process group');
  }

  async function execute(host: HostSpec, cmd: RemoteCommand, options: RunOptions, outputLimit: number): Promise<CommandResult> {
    const label = commandLabel(cmd);
    const redactValues = cmd.redact ?? [];
    const sudo = usesSudo(host, cmd);
    const timeoutMs = cmd.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const { signal, onOutput, onTick } = options;
    if (signal?.aborted) throw cancellation(signal, `"${label}" on ${host.name}`);

    const started = Date.now();
    const { client, channel, release } = await openChannel(host, asSuperuser(withPgidReport(cmd.command), sudo));
    channel.on('close', release);
    // A write after the remote end closed (stdin to a command that exited early) is not our failure.
    channel.on('error', (err: Error) => logger?.debug({ host: host.name, command: label, err: err.message }, 'channel error'));
    logger?.debug({ host: host.name, command: label, sudo }, 'command started');

    return new Promise<CommandResult>((resolve, reject) => {
      const stdout = new TailBuffer(outputLimit);
      const stderr = new TailBuffer(outputLimit);
      const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
      const redactors = { stdout: new StreamRedactor(redactValues), stderr: new StreamRedactor(redactValues) };
      let settled = false;
      let exitCode: number | undefined;
      let pgid: number | undefined;
      let markerPending: Buffer | undefined = Buffer.alloc(0);
      let pgidKnown: () => void = () => undefined;
      const pgidReported = new Promise<void>((r) => (pgidKnown = r));

      const emit = (stream: 'stdout' | 'stderr', text: string) => {
        if (!text || !onOutput) return;
        // A secret the command prints is for the caller only: heartbeats keep beating on ticks.
        if (stream === 'stdout' && cmd.secretOutput) return;
        try {
          onOutput(stream, text);
        } catch (err) {
          logger?.warn({ host: host.name, command: label, err: (err as Error).message }, 'onOutput threw');
        }
      };
      const take = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
        (stream === 'stdout' ? stdout : stderr).push(chunk);
        emit(stream, redactors[stream].write(decoders[stream].write(chunk)));
      };
      // The wrapper's first stderr line reports the process group; everything after is the command's.
      const takeStderr = (chunk: Buffer) => {
        if (markerPending === undefined) return take('stderr', chunk);
        const buffered: Buffer = Buffer.concat([markerPending, chunk]);
        const newline = buffered.indexOf(0x0a);
        if (newline < 0 && buffered.length < 256) {
          markerPending = buffered;
          return;
        }
        markerPending = undefined;
        const firstLine = buffered.subarray(0, Math.max(newline, 0)).toString('utf8');
        let rest = buffered;
        if (newline >= 0 && firstLine.startsWith(PGID_MARKER)) {
          const reported = Number(firstLine.slice(PGID_MARKER.length));
          if (Number.isInteger(reported) && reported > 1) pgid = reported;
          rest = buffered.subarray(newline + 1);
        }
        pgidKnown();
        if (rest.length > 0) take('stderr', rest);
      };

      const done = () => {
        settled = true;
        clearTimeout(timer);
        clearInterval(ticker);
        signal?.removeEventListener('abort', onAbort);
        client.off('close', onConnectionLost);
      };
      const stop = async (failure: () => Error, why: string) => {
        if (settled) return;
        done();
        logger?.warn({ host: host.name, command: label, why }, 'stopping remote command');
        await Promise.race([pgidReported, new Promise((r) => setTimeout(r, PGID_WAIT_MS))]);
        if (pgid !== undefined) {
          await killGroup(host, client, pgid, sudo).catch((err: Error) =>
            logger?.warn({ host: host.name, command: label, err: err.message }, 'could not stop the remote process group'),
          );
        }
        channel.close();
        reject(failure());
      };
      const onAbort = () => void stop(() => cancellation(signal as AbortSignal, `"${label}" on ${host.name}`), 'cancelled');
      const onConnectionLost = () => {
        if (settled) return;
        done();
        reject(unreachable(host, `the connection was lost while "${label}" ran on`));
      };
      const timer = setTimeout(() => void stop(() => commandTimeout(host, label, timeoutMs, stderr.toString(), redactValues), 'timeout'), timeoutMs);
      const ticker = onTick ? setInterval(onTick, tickIntervalMs) : undefined;

      signal?.addEventListener('abort', onAbort, { once: true });
      client.on('close', onConnectionLost);
      channel.on('data', (chunk: Buffer) => take('stdout', chunk));
      channel.stderr.on('data', takeStderr);
      channel.on('close', () => {
        const status = exitStatus.get(channel);
        if (status) exitCode = status.code ?? exitCodeOfSignal(status.signalName);
        if (markerPending !== undefined && markerPending.length > 0) take('stderr', markerPending);
        markerPending = undefined;
        pgidKnown();
        for (const stream of ['stdout', 'stderr'] as const) emit(stream, redactors[stream].write(decoders[stream].end()) + redactors[stream].flush());
        if (settled) return;
        done();
        if (exitCode === undefined) {
          reject(unreachable(host, `the channel closed without an exit status while "${label}" ran on`));
          return;
        }
        const durationMs = Date.now() - started;
        logger?.debug({ host: host.name, command: label, exitCode, durationMs }, 'command finished');
        resolve({ exitCode, stdout: stdout.toString(), stderr: stderr.toString(), durationMs });
      });
      channel.end(cmd.stdin);
      // Cancelled while connecting or waiting for a channel: the command may have started, stop it.
      if (signal?.aborted) onAbort();
    });
  }

  async function run(host: HostSpec, cmd: RemoteCommand, options: RunOptions = {}): Promise<CommandResult> {
    return execute(host, cmd, options, deps.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT);
  }

  async function runChecked(host: HostSpec, cmd: RemoteCommand, options: RunOptions = {}): Promise<CommandResult> {
    const result = await run(host, cmd, options);
    if (result.exitCode === 0) return result;
    const failure = commandFailure({ host, label: commandLabel(cmd), ...result, redactValues: cmd.redact ?? [] });
    logger?.warn({ host: host.name, command: commandLabel(cmd), exitCode: result.exitCode, type: failure.type }, redact(failure.message, cmd.redact));
    throw failure;
  }

  return {
    run,
    runChecked,

    async writeFile(host, path, content, mode, options = {}) {
      // The content is the secret (keys, kubeconfigs): it goes over stdin and stays out of every output.
      await runChecked(host, { command: writeFileScript(path, mode), stdin: content, label: `write ${path}`, redact: [content] }, options);
    },

    async readFile(host, path, options = {}) {
      const label = `read ${path}`;
      // What a file holds may be a secret (admin.conf's client key, a CA key): its content never streams
      // into output callbacks (heartbeat details, logs); only the caller gets it.
      const result = await execute(host, { command: readFileScript(path), label, secretOutput: true }, options, READ_FILE_LIMIT);
      if (result.exitCode === MISSING_FILE_EXIT) return undefined;
      // Only stderr goes into the failure: stdout may be part of a secret file.
      if (result.exitCode !== 0) throw commandFailure({ host, label, exitCode: result.exitCode, stdout: '', stderr: result.stderr, redactValues: [] });
      return result.stdout;
    },

    async close() {
      await pool.closeAll();
      logger?.debug({}, 'ssh connections closed');
    },
  };
}
