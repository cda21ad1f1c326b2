/**
 * kubeha's PayloadCodec: every payload is serialized (protobuf `temporal.api.common.v1.Payload`, so its
 * own metadata is sealed too) and encrypted with AES-256-GCM. The stored payload says only
 * `encoding: binary/encrypted` and which key sealed it. Used by the worker, the CLI, the webhook and the
 * codec server; never by workflow code (codecs run outside the workflow sandbox).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Keyring } from './keyring';

/** Metadata keys and values of an encrypted payload. */
export const ENCRYPTED = {
  encodingKey: 'encoding',
  encoding: 'binary/encrypted',
  keyIdKey: 'encryption-key-id',
  cipherKey: 'encryption-cipher',
  cipher: 'AES-256-GCM',
} as const;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Why a payload could not be decrypted. */
export type CodecFailure = 'unknown-key' | 'tampered' | 'malformed';

/** Raised by decode. The message names the key id, never data. */
export class CodecError extends Error {
  constructor(
    readonly reason: CodecFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => (b ? Buffer.from(b).toString('utf8') : '');

/** Additional data bound into each seal: a payload moved under another key id does not open. */
function aad(keyId: string): Buffer {
  return Buffer.from(`kubeha-codec/v1 ${keyId}`, 'utf8');
}

/** Whether a payload is one this codec sealed. */
export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.[ENCRYPTED.encodingKey]) === ENCRYPTED.encoding;
}

/** Encrypts and decrypts payloads with a {@link Keyring}. */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.seal(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    // Payloads written before encryption was on (or by another client) pass through unchanged.
    return payloads.map((p) => (isEncrypted(p) ? this.open(p) : p));
  }

  /** Encrypts one payload under the keyring's encrypting key. */
  seal(payload: Payload): Payload {
    const { id, key } = this.keyring.encryptKey;
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad(id));
    const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [ENCRYPTED.encodingKey]: utf8(ENCRYPTED.encoding),
        [ENCRYPTED.keyIdKey]: utf8(id),
        [ENCRYPTED.cipherKey]: utf8(ENCRYPTED.cipher),
      },
      data: sealed,
    };
  }

  /** Decrypts one payload; throws {@link CodecError} for an unknown key id or a payload that fails authentication. */
  open(payload: Payload): Payload {
    const id = text(payload.metadata?.[ENCRYPTED.keyIdKey]);
    if (!id) throw new CodecError('malformed', 'encrypted payload has no encryption-key-id');
    const key = this.keyring.keyFor(id);
    if (!key) throw new CodecError('unknown-key', `payload was encrypted with key "${id.slice(0, 64)}", which this keyring does not hold`);
    const data = payload.data ? Buffer.from(payload.data) : Buffer.alloc(0);
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new CodecError('malformed', `encrypted payload (key "${id}") is too short`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(aad(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new CodecError('tampered', `encrypted payload (key "${id}") failed authentication: altered, or sealed with another key of the same id`);
    }
    const inner = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: inner.metadata ?? {}, data: inner.data ?? new Uint8Array() };
  }
}
