/**
 * The codec server's HTTP pieces that do not depend on its routes: answers, bounded request bodies,
 * the login page, and which callers are on this machine.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PayloadJsonError } from './payloadJson';

// Payloads of a whole workflow history fit; a body larger than this is refused before it fills memory.
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Answers a request (never cached: answers may hold decoded payloads). */
export function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

/** A JSON error body, `{"message": …}`. */
export const errorBody = (message: string): string => JSON.stringify({ message });

/** Reads a request's body; a body over the limit is refused as a {@link PayloadJsonError}. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new PayloadJsonError(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `/login` form, with a message above it when one is given. */
export function loginPage(message = ''): string {
  return `<!doctype html><meta charset="utf-8"><title>kubeha codec server</title>
<h1>kubeha codec server</h1>
<p>Type the codec access token to let this browser see kubeha's payloads decoded in the Temporal Web UI.
In the UI's codec settings, tick "include cross-origin credentials".</p>
${message ? `<p><strong>${message}</strong></p>` : ''}
<form method="post" action="/login"><input type="password" name="token" autocomplete="off" autofocus> <button>Log in</button></form>`;
}

/** Whether an address is the machine's own (127.0.0.0/8, ::1, or IPv4 loopback written as IPv6). */
export function isLoopbackAddress(address: string): boolean {
  const plain = address.replace(/^::ffff:/i, '');
  return plain === '::1' || plain === 'localhost' || /^127(\.\d{1,3}){3}$/.test(plain);
}
