/**
 * The contracts of the rotation activities: certificate-key upload, certificate expiry and renewal on
 * control-plane hosts, and the rotation's Temporal Schedule. Everything here crosses Temporal's
 * history, so it holds secret NAMES and times, never a key. Type-only module: workflows import it.
 */
import type { HostSpec } from '../../common/inputs/shared';
import type { RotateCertificateKeyInput, RotationScheduleInput } from '../../common/inputs/rotateCertificateKey';
import type { CertificateExpiration } from '../hosts/kubeadmOutput';
import type { SecretName } from '../types';

export type { CertificateExpiration };

/** Whether a control-plane host can upload certificates now, and if not, why. */
export interface ControlPlaneProbe {
  host: string;
  healthy: boolean;
  /** Why the host was found unfit (unreachable over SSH, API server down, CA key missing...). */
  reason?: string;
}

/** Input of `uploadCertificateKey`. */
export interface UploadCertificateKeyInput {
  clusterName: string;
  /** A healthy control-plane host (see `probeControlPlane`). */
  host: HostSpec;
  /** Keep a key that opens the uploaded certificates and was uploaded less than this many minutes ago. */
  keepKeyUploadedWithinMinutes: number;
}

/** What the cluster's certificate key is now. No key: only where it is kept, and its times. */
export interface CertificateKeyInfo {
  host: string;
  /** False when a fresh enough key was already uploaded and kept. */
  rotated: boolean;
  /** The key alone (what `kubeadmJoin` reads), in the worker's secret store. */
  certificateKeySecret: SecretName;
  /** JSON `{certificateKey, uploadedAt, expiresAt, host}` in the worker's secret store, for other workflows and tools. */
  recordSecret: SecretName;
  uploadedAt: string;
  /** When Secret kube-system/kubeadm-certs is deleted with its owner token (upload + 2 h). */
  expiresAt: string;
  /** True when the key kept before was checked and no longer opens the uploaded certificates. */
  previousKeyRejected?: boolean;
}

/** The certificates of one control-plane host (`kubeadm certs check-expiration -o json`). */
export interface HostCertificates {
  host: string;
  certificates: CertificateExpiration[];
  certificateAuthorities: CertificateExpiration[];
  /** The kubeadm-managed leaf certificate that expires first. */
  soonest?: { name: string; expiresAt: string; residualSeconds: number };
}

/** Input of `renewCertificates` on one control-plane host. */
export interface RenewCertificatesInput {
  clusterName: string;
  host: HostSpec;
  /** Renew only when a kubeadm-managed certificate expires before this time (ISO); otherwise do nothing. */
  renewIfExpiresBefore: string;
  /** How long the static pod manifests stay out of the manifests directory. */
  restartWaitSeconds: number;
  /** How long the host's API server may take to answer after the restart. */
  apiTimeoutSeconds: number;
}

/** What `renewCertificates` did on one host. */
export interface RenewCertificatesResult {
  host: string;
  renewed: boolean;
  /** Static pods restarted (manifest names). */
  restarted: string[];
  /** When the soonest certificate expires now. */
  soonestExpiresAt?: string;
  /** The renewed admin kubeconfig replaced the one in the secret store. */
  kubeconfigStored: boolean;
}

/** Input of `ensureRotationSchedule`. */
export interface EnsureRotationScheduleInput {
  clusterName: string;
  schedule: RotationScheduleInput;
  /** What each scheduled run gets. */
  workflowInput: RotateCertificateKeyInput;
}

/** What `ensureRotationSchedule` found and did. */
export interface RotationScheduleInfo {
  scheduleId: string;
  /** False when it existed and was updated. */
  created: boolean;
}

/** The rotation activities (created by `createRotationActivities`). */
export interface RotationActivities {
  /** Read-only: can this control-plane host upload certificates now? Never throws for an unhealthy host. */
  probeControlPlane(input: { host: HostSpec }): Promise<ControlPlaneProbe>;
  /** New certificate key, certificates uploaded under it, verified, stored; the previous key checked rejected. */
  uploadCertificateKey(input: UploadCertificateKeyInput): Promise<CertificateKeyInfo>;
  certificateExpiration(input: { host: HostSpec }): Promise<HostCertificates>;
  /** `kubeadm certs renew all` and a restart of the static pods, when needed; waits for the host's API server. */
  renewCertificates(input: RenewCertificatesInput): Promise<RenewCertificatesResult>;
  /** Creates or updates the cluster's rotation schedule. */
  ensureRotationSchedule(input: EnsureRotationScheduleInput): Promise<RotationScheduleInfo>;
}
