/** Join credentials (bootstrap token, certificate key) with enough life left for a join. */
import type { JoinCredentials } from '../../activities/types';
import { hosts } from '../engine/activities';
import { initialized } from './cluster';
import type { BootstrapContext } from './data';
import { keySensitive } from './rules';

/** Refresh the uploaded certificates when they expire within this margin (a join takes minutes). */
const CERTIFICATE_KEY_MARGIN_MS = 20 * 60 * 1000;
/** Refresh the bootstrap token when it expires within this margin. */
const TOKEN_MARGIN_MS = 60 * 60 * 1000;

/** Join credentials with enough life left for a join; refreshed on the primary when not. */
export async function freshCredentials(ctx: BootstrapContext, needCertificateKey: boolean): Promise<JoinCredentials> {
  const init = await initialized(ctx);
  // The credentials come with the cluster: the last ones made or found.
  const current = ctx.join ?? init.join;
  const now = Date.now();
  const refreshToken = Date.parse(current.tokenExpiresAt) - now < TOKEN_MARGIN_MS;
  const refreshCertificateKey = needCertificateKey && Date.parse(current.certificateKeyExpiresAt) - now < CERTIFICATE_KEY_MARGIN_MS;
  if (!refreshToken && !refreshCertificateKey) return current;
  ctx.join = await refresh(ctx, current, refreshToken, refreshCertificateKey);
  return ctx.join;
}

/** New credentials made on the primary: a token, a certificate key (an upload), or both. */
export async function refresh(
  ctx: BootstrapContext,
  current: JoinCredentials,
  refreshToken: boolean,
  refreshCertificateKey: boolean,
): Promise<JoinCredentials> {
  const what = [refreshToken && 'token', refreshCertificateKey && 'certificate key'].filter(Boolean).join(' and ');
  const call = () =>
    hosts.refreshJoinCredentials.executeWithOptions({ summary: `refresh ${what} on ${ctx.primary.name}` }, [
      { clusterName: ctx.config.clusterName, host: ctx.primary, current, refreshToken, refreshCertificateKey },
    ]);
  // A new certificate key is an upload: it must not run beside a join or a rotation.
  return refreshCertificateKey ? keySensitive(ctx, `upload certificates (refresh ${what})`, call) : call();
}
