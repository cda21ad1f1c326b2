/**
 * `refreshJoinCredentials`: on a healthy control-plane host, a new token and/or new uploaded
 * certificates under a new key; each verified against the cluster before it is stored.
 */
import { ErrorType } from '../../common/errors';
import type { JoinCredentials, RefreshJoinCredentialsInput } from '../types';
import { nodeState } from './cluster';
import { hostFailure, type HostRunner, REMOTE } from './context';
import { createToken, type Credential, readCaCertHash, storeJoinCredentials, uploadCertificates } from './credentials';

async function kept(run: HostRunner, secretName: string, expiresAt: string): Promise<Credential | undefined> {
  if (!(await run.secrets.has(secretName))) return undefined;
  return { value: (await run.secrets.get(secretName)).trim(), expiresAt: new Date(expiresAt) };
}

/** Renews what was asked (and a missing token), keeps the rest. */
export async function refreshJoinCredentials(run: HostRunner, input: RefreshJoinCredentialsInput): Promise<JoinCredentials> {
  const { host, current } = input;
  if ((await nodeState(run, host, host.name)) !== 'found') {
    throw hostFailure({
      type: ErrorType.Unreachable,
      host,
      message: 'this control-plane host does not answer for the cluster',
      retryable: true,
      hint: `kubectl --kubeconfig ${REMOTE.adminConf} get node ${host.name} must work on it`,
    });
  }
  const token = (!input.refreshToken && (await kept(run, current.tokenSecret, current.tokenExpiresAt))) || (await createToken(run, host));
  // Only a refresh that asked for it uploads (the workflow asks under the cluster lock); a token-only
  // refresh that finds no key reports it expired, and the next control-plane join asks for one.
  const certificateKey = input.refreshCertificateKey
    ? await uploadCertificates(run, host)
    : await kept(run, current.certificateKeySecret, current.certificateKeyExpiresAt);
  const caHash = current.caCertHash || (await readCaCertHash(run, host));
  return storeJoinCredentials(run, input.clusterName, caHash, token, certificateKey);
}
