/**
 * Payloads as the remote codec protocol carries them: the protobuf JSON form of
 * `temporal.api.common.v1.Payloads`, i.e. `{"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}`.
 */
import type { Payload } from '@temporalio/common';

/** One payload in JSON form. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** Raised when a request body is not a Payloads JSON document. */
export class PayloadJsonError extends Error {}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bytes(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new PayloadJsonError(`${where} must be a base64 string`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** Parses a request body into payloads. */
export function payloadsFromJson(body: string): Payload[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new PayloadJsonError('body is not JSON');
  }
  const list = (doc as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(list)) throw new PayloadJsonError('body must be {"payloads": [...]}');
  return list.map((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new PayloadJsonError(`payloads[${i}] must be an object`);
    const { metadata, data } = raw as { metadata?: unknown; data?: unknown };
    const out: Payload = { metadata: {} };
    if (metadata !== undefined && metadata !== null) {
      if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new PayloadJsonError(`payloads[${i}].metadata must be an object`);
      for (const [key, value] of Object.entries(metadata)) (out.metadata as Record<string, Uint8Array>)[key] = bytes(value, `payloads[${i}].metadata.${key}`);
    }
    out.data = data === undefined || data === null ? new Uint8Array() : bytes(data, `payloads[${i}].data`);
    return out;
  });
}

/** Formats payloads as a response body. */
export function payloadsToJson(payloads: Payload[]): string {
  return JSON.stringify({
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  });
}
