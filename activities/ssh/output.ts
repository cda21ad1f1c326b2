/**
 * Keeping and masking command output: a byte tail with a memory cap, and redaction that also
 * works on streamed chunks (a secret may be split across two chunks).
 */

/** The mask that replaces redacted values. */
export const REDACTED = '***';

/** Replaces every occurrence of each non-empty value with {@link REDACTED}, longest first. */
export function redact(text: string, values: readonly string[] = []): string {
  let result = text;
  for (const value of [...values].filter((v) => v.length > 0).sort((a, b) => b.length - a.length)) {
    result = result.split(value).join(REDACTED);
  }
  return result;
}

/** The last `count` non-empty lines of a text. */
export function lastLines(text: string, count: number): string {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.slice(-count).join('\n');
}

/** Keeps the last `limit` bytes written to it, so a chatty command cannot exhaust memory. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes written in total, kept or not. */
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Compact only when well over the limit, so pushes stay cheap.
    if (this.size > this.limit * 2) this.compact();
  }

  /** Whether older output was dropped. */
  get truncated(): boolean {
    return this.total > this.limit;
  }

  toString(): string {
    this.compact();
    return Buffer.concat(this.chunks).toString('utf8');
  }

  private compact(): void {
    if (this.size <= this.limit) return;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(all.length - this.limit)];
    this.size = this.limit;
  }
}

/**
 * Redacts a stream of text chunks. When a chunk ends with the beginning of a secret, that end is
 * held back until more text arrives, so a secret split across chunks is still masked; any other
 * text passes at once. {@link flush} releases what is held at the end of the stream.
 */
export class StreamRedactor {
  private pending = '';
  private readonly values: readonly string[];

  constructor(values: readonly string[] = []) {
    this.values = values.filter((v) => v.length > 0);
  }

  /** Takes a chunk; returns the text that is safe to emit now. */
  write(chunk: string): string {
    if (this.values.length === 0) return chunk;
    const masked = redact(this.pending + chunk, this.values);
    const keep = this.partialSecretAtEnd(masked);
    this.pending = masked.slice(masked.length - keep);
    return masked.slice(0, masked.length - keep);
  }

  /** Returns what is held back (end of stream). */
  flush(): string {
    const rest = redact(this.pending, this.values);
    this.pending = '';
    return rest;
  }

  /** Length of the longest end of `text` that is a proper beginning of a secret. */
  private partialSecretAtEnd(text: string): number {
    let longest = 0;
    for (const value of this.values) {
      for (let length = Math.min(value.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(value.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
