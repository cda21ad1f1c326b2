/**
 * What the fuzz campaigns share: one raw HTTP request as the generators describe it, sent on its own
 * connection (any method token, any request target, chunked or sized bodies), and the process's
 * retained memory after a full garbage collection.
 */
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A request as a generator describes it; the body is built only when sent (big ones stay cheap to shrink). */
export interface FuzzRequest {
  method: string;
  /** The request target as sent: origin form, absolute form, `*`, or junk. */
  path: string;
  headers: Record<string, string>;
  body?: () => Buffer;
  /**
   * How the body is framed: `length` (Content-Length), `chunked` (Transfer-Encoding, 64 KiB pieces), or
   * `none`: neither header, so node's client sends a GET, HEAD, DELETE, OPTIONS or TRACE body as bare
   * bytes after the request (other methods it chunks anyway). Default `length`.
   */
  framing?: 'length' | 'chunked' | 'none';
}

/** Methods whose body node's client leaves unframed unless told (their bodies are then junk after the request). */
const UNFRAMED_BY_DEFAULT = ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE'];

/** Whether the request's body reaches the server as bytes after the request, which its parser refuses. */
export function sendsUnframedBody(request: FuzzRequest, bodyBytes: number): boolean {
  return request.framing === 'none' && bodyBytes > 0 && UNFRAMED_BY_DEFAULT.includes(request.method);
}

/** What came back: a status, or the connection's error code when the server closed it first. */
export type FuzzReply = { status: number; headers: http.IncomingHttpHeaders; text: string } | { error: string };

const CHUNK = 64 * 1024;

/** Sends one request on a fresh connection; never rejects. */
export function sendRaw(base: string, request: FuzzRequest, body: Buffer | undefined, timeoutMs = 30_000): Promise<FuzzReply> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let done = false;
    const finish = (reply: FuzzReply) => {
      if (!done) resolve(reply);
      done = true;
    };
    const headers: Record<string, string> = { ...request.headers };
    const framing = request.framing ?? 'length';
    if (body && framing === 'length') headers['Content-Length'] = String(body.length);
    // Said explicitly: node's client frames a GET, HEAD, DELETE, OPTIONS or TRACE body only when asked.
    if (body && framing === 'chunked') headers['Transfer-Encoding'] = 'chunked';
    let req: http.ClientRequest;
    try {
      req = http.request(
        { host: url.hostname, port: url.port, method: request.method, path: request.path, headers, agent: false, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
        },
      );
    } catch (err) {
      // The generators keep to what node's client can send; a throw here is a generator bug.
      finish({ error: `client refused the request: ${(err as Error).message}` });
      return;
    }
    req.on('timeout', () => {
      finish({ error: 'TIMEOUT' });
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
    if (!body) {
      req.end();
      return;
    }
    if (framing === 'length') {
      req.end(body);
      return;
    }
    for (let at = 0; at < body.length; at += CHUNK) req.write(body.subarray(at, at + CHUNK));
    req.end();
  });
}

let collect: (() => void) | undefined;

/**
 * A full garbage collection. node's test runner starts files without --expose-gc, so the flag is set
 * at run time and `gc` taken from a fresh context (V8 installs it on contexts created after the flag).
 */
export function forceGc(): 'gc' | 'none' {
  if (!collect) {
    const global = globalThis as { gc?: () => void };
    if (typeof global.gc === 'function') collect = global.gc;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  if (typeof collect !== 'function') return 'none';
  collect();
  collect();
  return 'gc';
}

/** Bytes the process retains: JS heap plus array buffers (request bodies are Buffers, off the heap). */
export function retainedBytes(): { heapUsed: number; arrayBuffers: number; total: number } {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, total: m.heapUsed + m.arrayBuffers };
}

/** `12.3 MiB`. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Counts per key, printed as `a=3 b=1`. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(key: string | number): void {
    this.counts.set(String(key), (this.counts.get(String(key)) ?? 0) + 1);
  }

  get(key: string | number): number {
    return this.counts.get(String(key)) ?? 0;
  }

  toString(): string {
    return [...this.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  }
}
