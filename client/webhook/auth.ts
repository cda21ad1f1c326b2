/**
 * Checks the credentials Alertmanager can send on a webhook: `Authorization: Bearer <token>`
 * (`http_config.authorization`) and `Authorization: Basic` (`basic_auth`). Comparison is in constant
 * time over SHA-256 digests, so neither the content nor the length of the secret leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ResolvedAuth } from './config';

/** Why a request was refused, for the 401 body and the metrics (never the credential). */
export type AuthResult = { ok: true; as: 'bearer' | 'basic' | 'none' } | { ok: false; reason: string };

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The `WWW-Authenticate` challenge for the schemes configured. */
export function challenge(auth: ResolvedAuth): string {
  const schemes: string[] = [];
  if (auth.bearerToken) schemes.push('Bearer realm="kubeha"');
  if (auth.basic) schemes.push('Basic realm="kubeha", charset="UTF-8"');
  return schemes.join(', ');
}

/** Whether any authentication is configured. */
export function authConfigured(auth: ResolvedAuth): boolean {
  return Boolean(auth.bearerToken || auth.basic);
}

/**
 * Checks the `Authorization` header against the configured credentials. With nothing configured
 * (a lab run explicitly insecure) every request passes.
 */
export function checkAuthorization(header: string | undefined, auth: ResolvedAuth): AuthResult {
  if (!authConfigured(auth)) return { ok: true, as: 'none' };
  if (!header) return { ok: false, reason: 'missing Authorization header' };
  const space = header.indexOf(' ');
  const scheme = (space > 0 ? header.slice(0, space) : header).toLowerCase();
  const credential = space > 0 ? header.slice(space + 1).trim() : '';
  if (scheme === 'bearer' && auth.bearerToken) {
    return sameSecret(credential, auth.bearerToken) ? { ok: true, as: 'bearer' } : { ok: false, reason: 'wrong bearer token' };
  }
  if (scheme === 'basic' && auth.basic) {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
    const password = colon >= 0 ? decoded.slice(colon + 1) : '';
    // Both compared every time, so a right user name with a wrong password takes as long as anything else.
    const userOk = sameSecret(user, auth.basic.username);
    const passwordOk = sameSecret(password, auth.basic.password);
    return userOk && passwordOk ? { ok: true, as: 'basic' } : { ok: false, reason: 'wrong user name or password' };
  }
  return { ok: false, reason: `authorization scheme "${scheme.slice(0, 20)}" is not accepted here` };
}
