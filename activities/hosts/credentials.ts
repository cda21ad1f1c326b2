/**
 * Join credentials on a running cluster: a bootstrap token (24 h) and a certificate key that
 * opens the uploaded control-plane certificates (2 h). Each is created on a healthy control-plane
 * host, verified against the cluster, and kept in the worker's secret store.
 */
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import type { JoinCredentials } from '../types';
import { bootstrapTokenExpiry, clusterConfiguration, uploadedCertsState } from './cluster';
import { hostFailure, type HostRunner, REMOTE, secretNames, TOKEN_TTL_MS, UPLOADED_CERTS_TTL_MS } from './context';
import { renderUploadCertsConfig } from './kubeadmConfig';
import { KubeadmOutputError, parseCertificateKey, parseToken, tokenId } from './kubeadmOutput';
import { caCertHash } from './pki';

/** Credentials with less life than this left are replaced rather than reused. */
export const TOKEN_REUSE_MARGIN_MS = 2 * 3600_000;
export const CERTIFICATE_KEY_REUSE_MARGIN_MS = 30 * 60_000;

/** A token or certificate key and when it stops working. */
export interface Credential {
  value: string;
  expiresAt: Date;
}

function outputFailure(host: HostSpec, err: unknown, what: string): never {
  throw hostFailure({
    type: ErrorType.CommandFailed,
    host,
    message: `${what}: ${(err as Error).message}`,
    retryable: false,
    hint: 'kubeadm printed something kubeha does not understand; check the kubeadm version on the host',
    cause: err instanceof KubeadmOutputError ? err : undefined,
  });
}

/** A new certificate key from `kubeadm certs certificate-key` (only printed, not yet used by anything). */
export async function generateCertificateKey(run: HostRunner, host: HostSpec): Promise<string> {
  const result = await run.check(
    host,
    { command: 'kubeadm certs certificate-key', label: 'kubeadm certs certificate-key', secretOutput: true },
    'kubeadm must be installed on the host (prepareHost)',
  );
  try {
    return parseCertificateKey(result.stdout);
  } catch (err) {
    return outputFailure(host, err, 'kubeadm certs certificate-key');
  }
}

/** A new random token from `kubeadm token generate` (not yet known to any cluster). */
export async function generateToken(run: HostRunner, host: HostSpec): Promise<string> {
  const result = await run.check(
    host,
    { command: 'kubeadm token generate', label: 'kubeadm token generate', secretOutput: true },
    'kubeadm must be installed on the host (prepareHost)',
  );
  try {
    return parseToken(result.stdout);
  } catch (err) {
    return outputFailure(host, err, 'kubeadm token generate');
  }
}

/** The CA pin, computed on the worker from the host's /etc/kubernetes/pki/ca.crt. */
export async function readCaCertHash(run: HostRunner, host: HostSpec): Promise<string> {
  const pem = await run.readFile(host, REMOTE.caCert);
  if (!pem) {
    throw hostFailure({
      type: ErrorType.Conflict,
      host,
      message: `${REMOTE.caCert} is missing`,
      retryable: false,
      hint: 'this host is not an initialized control plane',
    });
  }
  return caCertHash(pem);
}

/**
 * Creates a bootstrap token on the cluster (`kubeadm token create`, which prints it on stdout:
 * the token never appears on a command line) and verifies its Secret exists.
 */
export async function createToken(run: HostRunner, host: HostSpec): Promise<Credential> {
  const result = await run.check(
    host,
    {
      command: `kubeadm token create --kubeconfig ${REMOTE.adminConf} --ttl 24h0m0s --description kubeha-join-token`,
      label: 'kubeadm token create',
      secretOutput: true,
    },
    'creating a bootstrap token needs a healthy API server; check `kubectl get --raw /readyz` on the host',
    ErrorType.CommandTransient,
  );
  let token: string;
  try {
    token = parseToken(result.stdout);
  } catch (err) {
    return outputFailure(host, err, 'kubeadm token create');
  }
  const expiresAt = await bootstrapTokenExpiry(run, host, tokenId(token));
  if (!expiresAt) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `bootstrap token ${tokenId(token)} is not in the cluster after kubeadm token create`,
      retryable: true,
      hint: 'the API server may have lost the write; the next attempt creates another token',
    });
  }
  return { value: token, expiresAt };
}

/**
 * Uploads the control-plane certificates under a new certificate key:
 * `kubeadm init phase upload-certs --upload-certs --config F`, the key in the 0600 file F, then
 * verifies that Secret kube-system/kubeadm-certs exists and that the key opens it.
 */
export async function uploadCertificates(run: HostRunner, host: HostSpec): Promise<Credential> {
  const key = await generateCertificateKey(run, host);
  const config = renderUploadCertsConfig({ clusterConfiguration: await clusterConfiguration(run, host), certificateKey: key, nodeName: host.name });
  await run.writeSecretConfig(host, REMOTE.uploadCertsConfig, config);
  const uploadedAt = run.now();
  try {
    await run.check(
      host,
      {
        command: `kubeadm init phase upload-certs --upload-certs --config ${REMOTE.uploadCertsConfig}`,
        redact: [key],
        label: 'kubeadm init phase upload-certs',
      },
      'uploading certificates needs a healthy API server and the CA keys under /etc/kubernetes/pki on this host',
      ErrorType.CommandTransient,
    );
  } finally {
    await run.removeFile(host, REMOTE.uploadCertsConfig);
  }
  const state = await uploadedCertsState(run, host, key);
  if (!state.present || !state.opens) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: state.present
        ? 'Secret kube-system/kubeadm-certs does not open with the new certificate key'
        : 'Secret kube-system/kubeadm-certs is missing after upload-certs',
      retryable: true,
      hint: 'another upload may have run at the same time (key rotation and control-plane joins must not overlap); the next attempt uploads again',
    });
  }
  return { value: key, expiresAt: state.expiresAt ?? new Date(uploadedAt.getTime() + UPLOADED_CERTS_TTL_MS) };
}

/** The token in the secret store, if the cluster still knows it with enough life left. */
export async function reusableToken(run: HostRunner, host: HostSpec, clusterName: string): Promise<Credential | undefined> {
  const name = secretNames(clusterName).token;
  if (!(await run.secrets.has(name))) return undefined;
  const value = (await run.secrets.get(name)).trim();
  let id: string;
  try {
    id = tokenId(value);
  } catch {
    return undefined;
  }
  const expiresAt = await bootstrapTokenExpiry(run, host, id);
  if (!expiresAt || expiresAt.getTime() - run.now().getTime() < TOKEN_REUSE_MARGIN_MS) return undefined;
  return { value, expiresAt };
}

/** The certificate key in the secret store, if it opens the uploaded certificates and they live long enough. */
export async function reusableCertificateKey(run: HostRunner, host: HostSpec, clusterName: string): Promise<Credential | undefined> {
  const name = secretNames(clusterName).certificateKey;
  if (!(await run.secrets.has(name))) return undefined;
  const value = (await run.secrets.get(name)).trim();
  const state = await uploadedCertsState(run, host, value);
  if (!state.present || !state.opens) return undefined;
  const expiresAt = state.expiresAt ?? new Date(run.now().getTime() + UPLOADED_CERTS_TTL_MS);
  if (expiresAt.getTime() - run.now().getTime() < CERTIFICATE_KEY_REUSE_MARGIN_MS) return undefined;
  return { value, expiresAt };
}

/**
 * Stores the credentials and returns what history may keep: names, expiry times and the CA pin. A
 * certificate key left out is reported expired (an upload is needed): uploads run only in the
 * workflow, under the cluster lock.
 */
export async function storeJoinCredentials(
  run: HostRunner,
  clusterName: string,
  caHash: string,
  token: Credential,
  certificateKey: Credential | undefined,
): Promise<JoinCredentials> {
  const names = secretNames(clusterName);
  await run.secrets.put(names.token, token.value);
  if (certificateKey) await run.secrets.put(names.certificateKey, certificateKey.value);
  return {
    caCertHash: caHash,
    tokenSecret: names.token,
    tokenExpiresAt: token.expiresAt.toISOString(),
    certificateKeySecret: names.certificateKey,
    certificateKeyExpiresAt: (certificateKey?.expiresAt ?? new Date(0)).toISOString(),
  };
}

/** Default expiry of a token created now. */
export function tokenExpiryFrom(now: Date): Date {
  return new Date(now.getTime() + TOKEN_TTL_MS);
}
