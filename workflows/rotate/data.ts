/**
 * What the steps of one RotateCertificateKey run share: the validated input and the hosts that may
 * upload, built once; the chosen host, the key, the certificates and the renewals are the steps' findings.
 */
import type { IssuerExpiry, RenewIssuerResult } from '../../activities/mesh/types';
import type { CertificateKeyInfo, HostCertificates } from '../../activities/rotation/types';
import type { RotateCertificateKeyConfig } from '../../common/inputs/rotateCertificateKey';
import type { HostSpec } from '../../common/inputs/shared';
import type { ProgressTracker } from '../engine/progress';

export interface RotationContext {
  readonly config: RotateCertificateKeyConfig;
  readonly tracker: ProgressTracker;
  /** Control-plane and spare hosts, in input order. */
  readonly candidates: HostSpec[];
  host?: HostSpec;
  skipped: { host: string; reason: string }[];
  key?: CertificateKeyInfo;
  certificates: HostCertificates[];
  renewed: string[];
  /** The cluster's Linkerd issuer as last read (after a renewal, the renewed one). */
  meshIssuer?: IssuerExpiry;
  meshRenewal?: RenewIssuerResult;
  /** What the run warns about (an issuer close to expiry that stays so). */
  warnings: string[];
}

export function rotationContext(config: RotateCertificateKeyConfig, tracker: ProgressTracker): RotationContext {
  return { config, tracker, candidates: config.hosts.filter((h) => h.role !== 'worker'), skipped: [], certificates: [], renewed: [], warnings: [] };
}
