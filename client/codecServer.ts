/**
 * `kubeha codec-server`: the remote codec the Temporal Web UI (and `temporal --codec-endpoint`) calls to
 * show kubeha's encrypted payloads in clear, and to encrypt what the UI's Start Workflow form sends.
 *
 * - `POST /encode`, `POST /decode`: the remote codec protocol (Payloads JSON in, Payloads JSON out).
 * - Decoding and encoding need the access token (bearer, or the session cookie `/login` sets, which the
 *   server honours for 12 hours whatever the browser keeps). `kubeha dev` runs it in local mode
 *   (`trustLoopback`): this machine's callers need no login.
 * - CORS for the Web UI's origins (browser `fetch` with `Content-Type`, `X-Namespace`, `Authorization`,
 *   and credentials for the cookie).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { kubehaDataConverter } from '../lib/codec/dataConverter';
import { CodecError, type EncryptionCodec } from '../lib/codec/encryptionCodec';
import { AccessCheck, loadAccessToken, SESSION_COOKIE } from './codec/access';
import { errorBody, isLoopbackAddress, loginPage, readBody, send } from './codec/http';
import { PayloadJsonError, payloadsFromJson, payloadsToJson } from './codec/payloadJson';
import { requireCommandKeys, temporalConnectionOptions } from './connection';
import type { LocalService } from './localStack';

export { isLoopbackAddress } from './codec/http';

/** The Web UI origins allowed by default: the dev server's UI on its default port. */
export const DEFAULT_UI_ORIGINS = ['http://127.0.0.1:8233', 'http://localhost:8233'];
/** Default port of `kubeha codec-server`. */
export const DEFAULT_CODEC_PORT = 8888;

/** How to run a codec server. */
export interface CodecServerOptions {
  codec: EncryptionCodec;
  /** The access token decoding needs. */
  token: string;
  /** Origins allowed by CORS (exact match). Default {@link DEFAULT_UI_ORIGINS}. */
  allowedOrigins?: string[];
  /** Namespaces served (`X-Namespace`); default any. */
  namespaces?: string[];
  /**
   * The local default (`kubeha dev`, `npm start`): decode for callers on this machine without the token,
   * so the Web UI shows payloads on the first click. Only on a loopback address, and a browser's request
   * only from an allowed origin (a page of another site cannot use it). Never for a shared deployment.
   */
  trustLoopback?: boolean;
  /** How long a `/login` session lasts, checked by the server. Default 12 hours. */
  sessionSeconds?: number;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Called once per request after it is answered (no payloads, no tokens). */
  onRequest?: (entry: { method: string; path: string; status: number; namespace?: string }) => void;
}

/** A running codec server. */
export interface CodecServer {
  /** Its base URL, e.g. http://127.0.0.1:8888 (what `--ui-codec-endpoint` takes). */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts a codec server; resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if (options.trustLoopback && !isLoopbackAddress(options.host ?? '127.0.0.1')) {
    throw new Error(`the codec server trusts local callers only on a loopback address, not on ${options.host}: leave trustLoopback off or listen on 127.0.0.1`);
  }
  const access = new AccessCheck(options.token, options.sessionSeconds);
  const origins = new Set(options.allowedOrigins ?? DEFAULT_UI_ORIGINS);
  const namespaces = options.namespaces ? new Set(options.namespaces) : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.setHeader('Vary', 'Origin');
    // The request target is whatever the client sent (`//[` included): one WHATWG URL cannot parse is
    // the client's mistake, answered 400, not an internal error.
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://codec.local');
    } catch {
      req.resume();
      return send(res, 400, errorBody('malformed request target'));
    }

    if (req.method === 'OPTIONS') {
      if (!origin || !origins.has(origin)) return send(res, 403, errorBody(`origin ${origin ?? '(none)'} is not allowed; add it with --allow-origin`));
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.statusCode = 204;
      return void res.end();
    }
    if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, '{"status":"ok"}');
    if (url.pathname === '/login') {
      if (req.method === 'GET') return send(res, 200, loginPage(), 'text/html; charset=utf-8');
      if (req.method === 'POST') {
        let form: string;
        try {
          form = await readBody(req);
        } catch (err) {
          if (err instanceof PayloadJsonError) return send(res, 400, errorBody(err.message));
          throw err;
        }
        const token = new URLSearchParams(form).get('token') ?? '';
        if (!access.tokenMatches(token)) return send(res, 401, loginPage('Wrong token.'), 'text/html; charset=utf-8');
        res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${access.sessionValue()}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${access.sessionSeconds}`);
        return send(
          res,
          200,
          `<!doctype html><p>This browser may now decode kubeha payloads (${Math.round(access.sessionSeconds / 3600)} hours).</p>`,
          'text/html; charset=utf-8',
        );
      }
    }
    const operation = url.pathname.replace(/\/+$/, '');
    if (operation !== '/encode' && operation !== '/decode') return send(res, 404, errorBody('not found: use POST /encode or POST /decode'));
    if (req.method !== 'POST') return send(res, 405, errorBody('use POST'));
    const namespace = typeof req.headers['x-namespace'] === 'string' ? req.headers['x-namespace'] : undefined;
    if (namespaces && (!namespace || !namespaces.has(namespace))) return send(res, 403, errorBody(`namespace ${namespace ?? '(none)'} is not served here`));
    const trustedLocal = options.trustLoopback === true && isLoopbackAddress(req.socket.remoteAddress ?? '') && (!origin || origins.has(origin));
    // Encoding needs the login as decoding does: an open /encode would seal anything as if kubeha's own
    // clients had sent it (a forged signal or input the worker then trusts).
    if (!trustedLocal && !access.allows(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="kubeha-codec"');
      return send(res, 401, errorBody(`${operation.slice(1)} needs the codec access token (Authorization: Bearer, or log in at /login)`));
    }
    try {
      const payloads = payloadsFromJson(await readBody(req));
      const result = operation === '/encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      return send(res, 200, payloadsToJson(result));
    } catch (err) {
      if (err instanceof PayloadJsonError) return send(res, 400, errorBody(err.message));
      if (err instanceof CodecError) return send(res, 400, errorBody(`${err.reason}: ${err.message}`));
      throw err;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res)
      .catch(() => {
        if (!res.headersSent) send(res, 500, errorBody('internal error'));
        else res.end();
      })
      .finally(() => {
        const namespace = typeof req.headers['x-namespace'] === 'string' ? req.headers['x-namespace'] : undefined;
        options.onRequest?.({ method: req.method ?? '', path: (req.url ?? '').split('?')[0], status: res.statusCode, namespace });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CODEC_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Options of `kubeha codec-server` (and of the codec server `kubeha dev` runs). */
export interface CodecServerCommandOptions {
  host: string;
  port: number;
  allowOrigin?: string[];
  namespace?: string[];
  /** See {@link CodecServerOptions.trustLoopback}: the dev stack's default. */
  trustLoopback?: boolean;
}

/** Builds the server's options from the environment: keys (lib/codec/keyring.ts) and access token. */
export function codecServerOptionsFromEnv(
  options: CodecServerCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): { server: CodecServerOptions; notes: string[] } {
  const converter = kubehaDataConverter(env);
  const { token, source } = loadAccessToken(env);
  const origins = options.allowOrigin?.length
    ? options.allowOrigin
    : env.KUBEHA_CODEC_CORS_ORIGINS
      ? env.KUBEHA_CODEC_CORS_ORIGINS.split(',')
          .map((o) => o.trim())
          .filter(Boolean)
      : DEFAULT_UI_ORIGINS;
  const tokenWhere =
    source.kind === 'env'
      ? 'env KUBEHA_CODEC_TOKEN'
      : source.kind === 'file'
        ? `file ${source.file}`
        : `${source.created ? 'new ' : ''}token file ${source.file}`;
  return {
    server: {
      codec: converter.codec,
      token,
      host: options.host,
      port: options.port,
      allowedOrigins: origins,
      namespaces: options.namespace,
      trustLoopback: options.trustLoopback,
    },
    notes: [
      converter.description,
      options.trustLoopback
        ? `decodes for callers on this machine without login (local dev mode); others need the access token from ${tokenWhere}`
        : `decode access token from ${tokenWhere}`,
      `CORS origins: ${origins.join(', ')}`,
    ],
  };
}

/** The codec server as a service of a local stack (`kubeha dev`): started before the dev server. */
export function codecServerService(options: CodecServerCommandOptions): LocalService & { url: string } {
  const url = `http://${options.host}:${options.port}`;
  return {
    name: 'codec-server',
    url,
    async start(context) {
      const { server, notes } = codecServerOptionsFromEnv(options);
      const running = await startCodecServer(server);
      context.say(`codec server at ${running.url} (${notes.join('; ')})`);
      if (!options.trustLoopback) context.say(`to see decoded payloads in the Web UI, log this browser in at ${running.url}/login`);
      return { ended: new Promise(() => undefined), stop: () => running.close() };
    },
  };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds `kubeha codec-server` to the command line. */
export function registerCodecServerCommand(program: Command): Command {
  return program
    .command('codec-server')
    .description('serve /encode and /decode for the Temporal Web UI (decoding needs the codec access token)')
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', (v) => Number(v), DEFAULT_CODEC_PORT)
    .option(
      '--allow-origin <origin>',
      `a Web UI origin allowed by CORS (repeatable; default ${DEFAULT_UI_ORIGINS.join(', ')} or KUBEHA_CODEC_CORS_ORIGINS)`,
      collect,
    )
    .option('--namespace <name>', 'serve only this namespace (repeatable; default all)', collect)
    .action(async (options: CodecServerCommandOptions) => {
      requireCommandKeys('kubeha codec-server');
      // The Temporal settings the worker and the webhook beside it read (compose and Kubernetes give all
      // three one environment): a TLS file that cannot be read stops this one too, naming its setting.
      const temporal = temporalConnectionOptions();
      const { server, notes } = codecServerOptionsFromEnv(options);
      notes.push(`for the Web UI of Temporal at ${temporal.address}${temporal.tls ? ' (TLS)' : ''}`);
      const running = await startCodecServer({
        ...server,
        onRequest: (e) => process.stdout.write(`${e.method} ${e.path} ${e.status}${e.namespace ? ` ns=${e.namespace}` : ''}\n`),
      });
      // Listen for the stop signals before saying it runs: a supervisor may stop it right after that line.
      const stopped = new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      for (const line of notes) process.stdout.write(`${line}\n`);
      process.stdout.write(`codec server at ${running.url}; Ctrl-C stops it\n`);
      await stopped;
      await running.close();
    });
}
