/**
 * Who may use the codec server. Decoding shows secrets in clear, so it needs the server's access token:
 * as `Authorization: Bearer <token>` (scripts, the CLI, a UI behind an identity proxy that passes the
 * user's token), or as the session cookie `/login` sets after the token was typed into a form (a browser
 * on the dev server's Web UI, which has no tokens of its own).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { ensureGeneratedSecretFile } from '../../lib/generatedSecretFile';
import { dataDir } from '../../lib/paths';

/** Environment variables the codec server's access token comes from. */
export const CODEC_TOKEN_ENV = {
  token: 'KUBEHA_CODEC_TOKEN',
  tokenFile: 'KUBEHA_CODEC_TOKEN_FILE',
} as const;

/** The session cookie a browser gets from `/login`. */
export const SESSION_COOKIE = 'kubeha_codec_session';

/** Where the access token came from (never the token). */
export type TokenSource = { kind: 'env' } | { kind: 'file'; file: string } | { kind: 'generated'; file: string; created: boolean };

function readTokenFile(file: string): string {
  const token = readFileSync(file, 'utf8').trim();
  if ((statSync(file).mode & 0o077) !== 0) throw new Error(`codec token file ${file} is readable by group or others; chmod 600 it`);
  if (token.length < 16) throw new Error(`codec token in ${file} is shorter than 16 characters`);
  return token;
}

/**
 * The access token: `KUBEHA_CODEC_TOKEN`, else the file `KUBEHA_CODEC_TOKEN_FILE`, else
 * `<dataDir>/codec/token`, generated (0600) on first use.
 */
export function loadAccessToken(env: NodeJS.ProcessEnv = process.env): { token: string; source: TokenSource } {
  const inline = env[CODEC_TOKEN_ENV.token]?.trim();
  if (inline) {
    if (inline.length < 16) throw new Error(`${CODEC_TOKEN_ENV.token} is shorter than 16 characters`);
    return { token: inline, source: { kind: 'env' } };
  }
  const file = env[CODEC_TOKEN_ENV.tokenFile]?.trim();
  if (file) return { token: readTokenFile(path.resolve(file)), source: { kind: 'file', file: path.resolve(file) } };
  const generated = path.join(dataDir(env), 'codec', 'token');
  const created = ensureGeneratedSecretFile(generated, () => `${randomBytes(24).toString('base64url')}\n`);
  return { token: readTokenFile(generated), source: { kind: 'generated', file: generated, created } };
}

function sameSecret(a: string, b: string): boolean {
  // Digests first: equal lengths for timingSafeEqual, and no early exit on length.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** How long a browser's login lasts, checked by the server (the cookie's Max-Age only asks the browser). */
export const SESSION_SECONDS = 12 * 3600;

/** Checks requests against one access token. */
export class AccessCheck {
  constructor(
    private readonly token: string,
    /** Session lifetime; the server refuses an older session whatever the browser keeps. */
    readonly sessionSeconds: number = SESSION_SECONDS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The MAC of a session that ends at `expiresAt` (epoch seconds): derived from the token, so a new token logs every browser out. */
  private mac(expiresAt: number): string {
    return createHmac('sha256', this.token).update(`kubeha codec session v2|${expiresAt}`).digest('base64url');
  }

  /** The cookie value a browser receives after a correct login: `<expiry>.<mac>`. */
  sessionValue(): string {
    const expiresAt = Math.floor(this.now() / 1000) + this.sessionSeconds;
    return `${expiresAt}.${this.mac(expiresAt)}`;
  }

  /** Whether a typed token is the access token. */
  tokenMatches(candidate: string): boolean {
    return sameSecret(candidate.trim(), this.token);
  }

  /** Whether a session cookie is genuine and not expired. */
  sessionValid(value: string): boolean {
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match) return false;
    const expiresAt = Number(match[1]);
    return sameSecret(match[2], this.mac(expiresAt)) && expiresAt * 1000 > this.now();
  }

  /** Whether a request carries the token (bearer) or a live session cookie. */
  allows(request: IncomingMessage): boolean {
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match && sameSecret(match[1], this.token)) return true;
    }
    const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
    return cookie !== undefined && this.sessionValid(cookie);
  }
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
