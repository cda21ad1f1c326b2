/** What RotateCertificateKey returns. */
import type { CertificateKeyInfo, HostCertificates } from '../../activities/rotation/types';
import type { RotationContext } from './data';

/** What RotateCertificateKey returns. Names and times only, never a key. */
export interface RotationResult {
  clusterName: string;
  /** The control-plane host that uploaded the certificates. */
  host?: string;
  /** Hosts passed over, with the reason. */
  skippedHosts: { host: string; reason: string }[];
  key?: CertificateKeyInfo;
  /** The certificate expiring first, over every control-plane host checked. */
  soonestCertificate?: { host: string; name: string; expiresAt: string };
  /** Hosts whose certificates were renewed (in order). */
  renewedHosts: string[];
  /** The cluster's Linkerd issuer (input `meshIssuer`), as read last: after a renewal, the renewed one. */
  meshIssuer?: {
    notAfter?: string;
    daysLeft?: number;
    /** Expires within `meshIssuer.thresholdDays`. */
    due: boolean;
    /** This run wrote a new issuer into the cluster's Secret. */
    renewed: boolean;
    /** This run restarted linkerd-identity. */
    identityRestarted: boolean;
  };
  /** What needs an operator: a Linkerd issuer close to expiry that this run did not renew, and why. */
  warnings: string[];
  dryRun: boolean;
}

export function soonestOf(all: HostCertificates[]): RotationResult['soonestCertificate'] {
  let best: RotationResult['soonestCertificate'];
  for (const h of all) {
    if (h.soonest && (!best || Date.parse(h.soonest.expiresAt) < Date.parse(best.expiresAt)))
      best = { host: h.host, name: h.soonest.name, expiresAt: h.soonest.expiresAt };
  }
  return best;
}

export function resultOf(ctx: RotationContext): RotationResult {
  return {
    clusterName: ctx.config.clusterName,
    host: ctx.host?.name,
    skippedHosts: ctx.skipped,
    key: ctx.key,
    soonestCertificate: soonestOf(ctx.certificates),
    renewedHosts: ctx.renewed,
    meshIssuer: ctx.meshIssuer && {
      notAfter: ctx.meshIssuer.notAfter,
      daysLeft: ctx.meshIssuer.daysLeft,
      due: ctx.meshIssuer.due,
      renewed: ctx.meshRenewal?.secretWritten ?? false,
      identityRestarted: ctx.meshRenewal?.restarted ?? false,
    },
    warnings: ctx.warnings,
    dryRun: ctx.config.dryRun,
  };
}
