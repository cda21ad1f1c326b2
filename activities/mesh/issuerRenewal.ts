/**
 * Renewal of a cluster's Linkerd issuer from the pair's trust anchor in kubeha's store, then a restart
 * of linkerd-identity so it signs with the new issuer at once (Linkerd's own rotation procedure: new
 * issuer from the same anchor, then restart). Each part asks the cluster first, so a retry after a
 * crash finishes what is missing and a second pass changes nothing:
 * - the issuer Secret is written only while the installed issuer is due; the new issuer is stored
 *   first, and a stored issuer that is newer than the installed one is reused rather than made again;
 * - the restart happens only while linkerd-identity started before the installed issuer was made.
 * Keys are read and written here only: nothing returned or thrown holds one.
 */
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { KubeClient } from '../kubernetes/client';
import { KubeApiError } from '../kubernetes/errors';
import type { SecretStore } from '../secrets/store';
import type { WorkloadRef } from '../types';
import { ISSUER_SECRET, installedAnchorsPem, LINKERD_NAMESPACE } from './clusterState';
import {
  ISSUER_CERT_KEY,
  ISSUER_KEY_KEY,
  ISSUER_SECRET_PATH,
  NOT_RENEWABLE_HINT,
  readInstalledIssuer,
  whyNotRenewable,
  type InstalledIssuer,
} from './issuerWatch';
import { BACKDATE_MS, bundleFingerprints, checkTrust, createIssuer, daysLeft, parseCertificates, type KeyedCertificate } from './pki';
import { trustSecretNames } from './trust';
import type { RenewIssuerInput, RenewIssuerResult } from './types';

/** The Deployment that signs workload certificates with the issuer. */
export const IDENTITY_WORKLOAD: WorkloadRef = { kind: 'Deployment', namespace: LINKERD_NAMESPACE, name: 'linkerd-identity' };
/** The pod template annotation `kubectl rollout restart` sets (kubectl's polymorphichelpers). */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const IDENTITY_PATH = `/apis/apps/v1/namespaces/${IDENTITY_WORKLOAD.namespace}/deployments/${IDENTITY_WORKLOAD.name}`;
/** On the Deployment (not its pod template): the issuer kubeha last restarted identity for, so a retry does not restart again. */
export const RESTARTED_FOR = 'kubeha.io/restarted-for-issuer';

const refused = (message: string, hint: string, details: Record<string, unknown> = {}) =>
  kubehaFailure({ type: ErrorType.Conflict, message, retryable: false, hint, details });

/** Renews the installed issuer when due and restarts identity when it has not started since. */
export async function renewIssuer(
  client: KubeClient,
  secrets: SecretStore,
  input: RenewIssuerInput,
  kubeconfigSecret: string,
  now = new Date(),
): Promise<RenewIssuerResult> {
  const installed = await readInstalledIssuer(client);
  const refusal = await whyNotRenewable(secrets, input.pairName, installed);
  if (refusal) throw refused(`cannot renew the Linkerd issuer of ${input.cluster}: ${refusal}`, NOT_RENEWABLE_HINT, { cluster: input.cluster });
  if (!installed)
    throw refused(
      `${input.cluster} has no readable Linkerd issuer in Secret ${LINKERD_NAMESPACE}/${ISSUER_SECRET}`,
      'install Linkerd with LinkMeshClusters first (or check the kubeconfig kubeha stored for this side of the pair)',
    );
  const names = trustSecretNames(input.pairName);
  const anchor: KeyedCertificate = { certificatePem: await secrets.get(names.anchors), keyPem: await secrets.get(names.anchorKey) };
  const trusted = await clusterAnchors(client, input.cluster);
  const ours = (await bundleFingerprints(anchor.certificatePem))[0];
  if (!trusted.fingerprints.includes(ours))
    throw refused(
      `${input.cluster} does not trust the pair's stored anchor (${ours.slice(0, 16)}…): an issuer signed by it would break every workload identity there`,
      'run LinkMeshClusters for this pair first, so both clusters trust the stored anchor',
    );

  let current = installed;
  let secretWritten = false;
  let stored = false;
  if (daysLeft(installed.facts.notAfter, now) < input.thresholdDays) {
    const next = await nextIssuer(secrets, input, anchor, installed, now);
    stored = next.stored;
    await writeIssuerSecret(client, installed, next.issuer, input.cluster);
    current = await verifyInstalled(client, next.issuer, trusted.pem, input, now);
    secretWritten = true;
  }
  const restarted = await restartIdentityIfStale(client, current, input.cluster, now);
  return {
    cluster: input.cluster,
    secretWritten,
    stored,
    restarted,
    fingerprint: current.facts.fingerprint,
    notAfter: current.facts.notAfter,
    workload: IDENTITY_WORKLOAD,
    kubeconfigSecret,
  };
}

async function clusterAnchors(client: KubeClient, cluster: string): Promise<{ pem: string; fingerprints: string[] }> {
  const pem = await installedAnchorsPem(client);
  if (!pem) throw refused(`${cluster} has no Linkerd trust roots`, 'install Linkerd with LinkMeshClusters first');
  return { pem, fingerprints: await bundleFingerprints(pem) };
}

/**
 * The issuer to install: the role's stored issuer when an earlier attempt already made one that is
 * good and not the installed one (stored, then crashed before the Secret write), else a new one,
 * stored key first (as ensureTrust does) so the store never holds a certificate without its key.
 */
async function nextIssuer(
  secrets: SecretStore,
  input: RenewIssuerInput,
  anchor: KeyedCertificate,
  installed: InstalledIssuer,
  now: Date,
): Promise<{ issuer: KeyedCertificate; stored: boolean }> {
  const names = trustSecretNames(input.pairName);
  const [certName, keyName] = [names.issuerCertificate(input.role), names.issuerKey(input.role)];
  if ((await secrets.has(certName)) && (await secrets.has(keyName))) {
    const kept = { certificatePem: await secrets.get(certName), keyPem: await secrets.get(keyName) };
    const errors = (await checkTrust(anchor.certificatePem, kept, now)).filter((p) => p.subject === 'issuer' && p.severity === 'error');
    const newer = errors.length === 0 && (await bundleFingerprints(kept.certificatePem))[0] !== installed.facts.fingerprint;
    if (newer && !dueAt(kept.certificatePem, input.thresholdDays, now)) return { issuer: kept, stored: false };
  }
  const issuer = await createIssuer(anchor, input.validityHours, now);
  if (dueAt(issuer.certificatePem, input.thresholdDays, now))
    throw refused(
      `a new issuer for ${input.cluster} would still expire within ${input.thresholdDays} days: the pair's trust anchor expires first`,
      'the anchor itself must be rotated (a bundle of old and new anchors on both clusters, then new issuers); kubeha leaves that to an operator',
    );
  await secrets.put(keyName, issuer.keyPem);
  await secrets.put(certName, issuer.certificatePem);
  return { issuer, stored: true };
}

function dueAt(certificatePem: string, thresholdDays: number, now: Date): boolean {
  return daysLeft(parseCertificates(certificatePem)[0].notAfter, now) < thresholdDays;
}

/** Replaces crt.pem and key.pem of the issuer Secret, only over the version just read (a concurrent write retries). */
async function writeIssuerSecret(client: KubeClient, installed: InstalledIssuer, issuer: KeyedCertificate, cluster: string): Promise<void> {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const patch = {
    metadata: { resourceVersion: installed.resourceVersion },
    data: { [ISSUER_CERT_KEY]: b64(issuer.certificatePem), [ISSUER_KEY_KEY]: b64(issuer.keyPem) },
  };
  const res = await client.request('PATCH', ISSUER_SECRET_PATH, JSON.stringify(patch), 'application/merge-patch+json');
  if (res.status === 409)
    throw kubehaFailure({
      type: ErrorType.CloudTransient,
      message: `the issuer Secret of ${cluster} changed while kubeha renewed it`,
      retryable: true,
      hint: 'someone else wrote the issuer at the same time; the retry reads it again',
    });
  if (res.status !== 200) throw client.failure(new KubeApiError(res.status, res.body), `write the issuer Secret of ${cluster}`);
}

/** Reads the Secret back: it must hold the new issuer, signed by the anchors the cluster trusts, not due. */
async function verifyInstalled(client: KubeClient, issuer: KeyedCertificate, anchorsPem: string, input: RenewIssuerInput, now: Date): Promise<InstalledIssuer> {
  const after = await readInstalledIssuer(client);
  const wanted = (await bundleFingerprints(issuer.certificatePem))[0];
  const problems = after ? await checkTrust(anchorsPem, { certificatePem: after.certificatePem }, now) : [];
  const errors = problems.filter((p) => p.subject === 'issuer').map((p) => p.message);
  if (!after || after.facts.fingerprint !== wanted || errors.length || daysLeft(after.facts.notAfter, now) < input.thresholdDays)
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      message: `the issuer Secret of ${input.cluster} does not hold the renewed issuer after the write${errors.length ? `: ${errors.join('; ')}` : ''}`,
      retryable: true,
      hint: 'something else writes Secret linkerd/linkerd-identity-issuer (cert-manager, a GitOps sync?); stop it, then retry',
    });
  return after;
}

interface IdentityDeployment {
  metadata?: { creationTimestamp?: string; annotations?: Record<string, string> };
  spec?: { template?: { metadata?: { annotations?: Record<string, string> } } };
}

/**
 * `kubectl rollout restart` of linkerd-identity unless it already runs with the installed issuer:
 * kubeha restarted it for this issuer (the annotation on the Deployment, not on its pods), or its
 * pods were made after the issuer (its creation or last restart against the issuer's issuance;
 * kubeha backdates notBefore by BACKDATE_MS). Both times have whole seconds: compared as such.
 */
async function restartIdentityIfStale(client: KubeClient, issuer: InstalledIssuer, cluster: string, now: Date): Promise<boolean> {
  const deploy = await client.find<IdentityDeployment>(IDENTITY_PATH);
  if (!deploy) throw refused(`${cluster} has no Deployment ${LINKERD_NAMESPACE}/${IDENTITY_WORKLOAD.name}`, 'install Linkerd with LinkMeshClusters first');
  if (deploy.metadata?.annotations?.[RESTARTED_FOR] === issuer.facts.fingerprint) return false;
  const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;
  const issuedAt = seconds(Date.parse(issuer.facts.notBefore) + BACKDATE_MS);
  const started = Math.max(
    Date.parse(deploy.metadata?.creationTimestamp ?? '') || 0,
    Date.parse(deploy.spec?.template?.metadata?.annotations?.[RESTARTED_AT] ?? '') || 0,
  );
  if (started >= issuedAt) return false;
  const restartedAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const patch = {
    metadata: { annotations: { [RESTARTED_FOR]: issuer.facts.fingerprint } },
    spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } },
  };
  const res = await client.request('PATCH', IDENTITY_PATH, JSON.stringify(patch), 'application/strategic-merge-patch+json');
  if (res.status !== 200) throw client.failure(new KubeApiError(res.status, res.body), `restart linkerd-identity on ${cluster}`);
  const after = await client.find<IdentityDeployment>(IDENTITY_PATH);
  if (after?.spec?.template?.metadata?.annotations?.[RESTARTED_AT] !== restartedAt)
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      message: `linkerd-identity on ${cluster} does not carry the restart annotation after the patch`,
      retryable: true,
      hint: 'read the Deployment (kubectl -n linkerd get deploy linkerd-identity -o yaml); an admission webhook may strip annotations',
    });
  return true;
}
