/**
 * The keys kubeha's payload codec encrypts with: one key encrypts, every key listed decrypts, so keys
 * can be rotated without losing the histories written under the old ones. Where the keys come from is
 * a {@link KeySource}: the environment, a file, or (for a laptop) a file kubeha generates once.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureGeneratedSecretFile } from '../generatedSecretFile';
import { dataDir } from '../paths';

/** One AES-256 key and the id written next to every payload it encrypts. */
export interface CodecKey {
  /** 1-64 characters of `[A-Za-z0-9._-]`; stored in each payload's metadata (not secret). */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** The keys of a codec: the first encrypts, all decrypt. */
export interface Keyring {
  /** The key new payloads are encrypted with. */
  readonly encryptKey: CodecKey;
  /** The key of an id, or undefined when this keyring does not hold it. */
  keyFor(id: string): Buffer | undefined;
  /** Every id, the encrypting one first (for diagnostics: never the keys). */
  readonly ids: readonly string[];
}

/** Raised when a key configuration is unusable. The message names the source, never a key. */
export class CodecKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecKeyError';
  }
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds a keyring from keys; the first one encrypts. Rejects duplicate ids and keys that are not 32 bytes. */
export function keyringOf(keys: readonly CodecKey[]): Keyring {
  if (keys.length === 0) throw new CodecKeyError('a codec keyring needs at least one key');
  const byId = new Map<string, Buffer>();
  for (const { id, key } of keys) {
    if (!KEY_ID.test(id)) throw new CodecKeyError(`codec key id "${id.slice(0, 70)}" must be 1-64 letters, digits, ".", "_" or "-"`);
    if (key.length !== 32) throw new CodecKeyError(`codec key "${id}" must be 32 bytes (AES-256), got ${key.length}`);
    if (byId.has(id)) throw new CodecKeyError(`codec key id "${id}" is listed twice`);
    byId.set(id, key);
  }
  return {
    encryptKey: keys[0],
    keyFor: (id) => byId.get(id),
    ids: keys.map((k) => k.id),
  };
}

/**
 * Parses `id1:base64key,id2:base64key` (commas or newlines between entries; `#` starts a comment
 * line). `where` names the source in errors.
 */
export function parseKeyList(text: string, where: string): CodecKey[] {
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e !== '' && !e.startsWith('#'));
  if (entries.length === 0) throw new CodecKeyError(`${where} holds no key; expected "id:base64key[,id:base64key...]"`);
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new CodecKeyError(`${where}: entry ${i + 1} is not "id:base64key"`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new CodecKeyError(`${where}: the key of "${id}" is not base64`);
    return { id, key: Buffer.from(encoded, 'base64') };
  });
}

/** Formats keys as the list {@link parseKeyList} reads. */
export function formatKeyList(keys: readonly CodecKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join('\n') + '\n';
}

/** A fresh random key with an id that says when it was made. */
export function generateKey(now: Date = new Date()): CodecKey {
  const stamp = now.toISOString().slice(0, 10).replace(/-/g, '');
  return { id: `k${stamp}-${randomBytes(3).toString('hex')}`, key: randomBytes(32) };
}

/** Where the keys came from, for the operator (no key material). */
export type KeySource = { kind: 'env'; variable: string } | { kind: 'file'; file: string } | { kind: 'generated'; file: string; created: boolean };

/** The environment variables kubeha reads its codec keys from. */
export const CODEC_KEY_ENV = {
  /** `id1:base64key,id2:base64key`; the first encrypts. */
  keys: 'KUBEHA_CODEC_KEYS',
  /** A file holding the same list (one entry per line). */
  keyFile: 'KUBEHA_CODEC_KEY_FILE',
} as const;

/** The dev default key file: `<dataDir>/codec/keys`. */
export function defaultKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataDir(env), 'codec', 'keys');
}

function readKeyFile(file: string): CodecKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CodecKeyError(`cannot read codec key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const mode = statSync(file).mode & 0o077;
  if (mode !== 0)
    throw new CodecKeyError(`codec key file ${file} is readable by group or others (mode ${(statSync(file).mode & 0o777).toString(8)}); chmod 600 it`);
  return parseKeyList(text, `codec key file ${file}`);
}

/**
 * Loads the keyring kubeha's worker, CLI and servers share:
 * 1. `KUBEHA_CODEC_KEYS` when set;
 * 2. else the file named by `KUBEHA_CODEC_KEY_FILE`;
 * 3. else the dev default `<dataDir>/codec/keys`, generated (0600, directory 0700) on first use.
 * Every process on one machine with the same data directory thus agrees on the key.
 */
export function loadKeyring(env: NodeJS.ProcessEnv = process.env): { keyring: Keyring; source: KeySource } {
  const inline = env[CODEC_KEY_ENV.keys];
  if (inline !== undefined && inline.trim() !== '') {
    return { keyring: keyringOf(parseKeyList(inline, CODEC_KEY_ENV.keys)), source: { kind: 'env', variable: CODEC_KEY_ENV.keys } };
  }
  const file = env[CODEC_KEY_ENV.keyFile];
  if (file !== undefined && file.trim() !== '') {
    const resolved = path.resolve(file);
    return { keyring: keyringOf(readKeyFile(resolved)), source: { kind: 'file', file: resolved } };
  }
  const generated = defaultKeyFile(env);
  const created = ensureGeneratedSecretFile(generated, () => formatKeyList([generateKey()]));
  return { keyring: keyringOf(readKeyFile(generated)), source: { kind: 'generated', file: generated, created } };
}

/**
 * For the processes that run apart from the local dev stack (`kubeha worker`, `webhook`,
 * `codec-server`): refuses to go on without keys every kubeha process can share. A key made on the
 * fly in one process's data directory would differ from the CLI's and the webhook's, and nobody could
 * read anybody's payloads (an alert's failover would never run). Configured keys (KUBEHA_CODEC_KEYS,
 * KUBEHA_CODEC_KEY_FILE) pass, and so does the key `kubeha dev`/`start` made in this data directory.
 */
export function requireSharedKeys(who: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env[CODEC_KEY_ENV.keys]?.trim() || env[CODEC_KEY_ENV.keyFile]?.trim()) return;
  if (existsSync(defaultKeyFile(env))) return;
  throw new CodecKeyError(
    `${who} needs the payload keys that every kubeha process shares, and none are configured: set ${CODEC_KEY_ENV.keys}="<id>:<32 random bytes in base64>" ` +
      `(e.g. k1:$(openssl rand -base64 32)), or ${CODEC_KEY_ENV.keyFile} to a 0600 file of such lines, the same for the worker, the CLI and the webhook. ` +
      '`kubeha dev` and `kubeha start` make a key for one machine by themselves.',
  );
}

/** One line on where the keys come from, for logs. */
export function describeKeySource(source: KeySource, keyring: Keyring): string {
  const where =
    source.kind === 'env'
      ? `env ${source.variable}`
      : source.kind === 'file'
        ? `file ${source.file}`
        : `${source.created ? 'new ' : ''}dev key file ${source.file}`;
  return `payload encryption: AES-256-GCM, key "${keyring.encryptKey.id}" (${keyring.ids.length} key(s) for decryption) from ${where}`;
}
