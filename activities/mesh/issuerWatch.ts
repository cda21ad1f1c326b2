/**
 * The expiry watch of a cluster's Linkerd issuer: read-only. The issuer is read from the cluster's own
 * Secret (what identity signs with), not from kubeha's store, so an issuer replaced by hand is watched
 * too. Whether kubeha could renew it is decided from the store: only an anchor kubeha made has its key.
 */
import type { KubeClient } from '../kubernetes/client';
import type { SecretStore } from '../secrets/store';
import { ISSUER_SECRET, LINKERD_NAMESPACE } from './clusterState';
import { certificateFacts, daysLeft, parseCertificates, type CertificateFacts } from './pki';
import { trustSecretNames } from './trust';
import type { IssuerExpiry, IssuerExpiryInput } from './types';

/** The issuer Secret's API path. */
export const ISSUER_SECRET_PATH = `/api/v1/namespaces/${LINKERD_NAMESPACE}/secrets/${ISSUER_SECRET}`;
/** The keys of Linkerd's own issuer scheme (`linkerd.io/tls`); `kubernetes.io/tls` (cert-manager) uses tls.crt and tls.key. */
export const ISSUER_CERT_KEY = 'crt.pem';
export const ISSUER_KEY_KEY = 'key.pem';

/** The issuer Secret as read, with its certificate's facts. */
export interface InstalledIssuer {
  resourceVersion?: string;
  /** `linkerd`: crt.pem/key.pem, written by `linkerd install`; `external`: tls.crt (cert-manager or another owner). */
  scheme: 'linkerd' | 'external';
  certificatePem: string;
  facts: CertificateFacts;
}

interface IssuerSecret {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

/** The installed issuer, or undefined when the Secret is missing or holds no readable certificate. */
export async function readInstalledIssuer(client: KubeClient): Promise<InstalledIssuer | undefined> {
  const secret = await client.find<IssuerSecret>(ISSUER_SECRET_PATH);
  const linkerdScheme = secret?.data?.[ISSUER_CERT_KEY];
  const data = linkerdScheme ?? secret?.data?.['tls.crt'];
  if (!data) return undefined;
  const certificatePem = Buffer.from(data, 'base64').toString('utf8');
  try {
    const facts = await certificateFacts(parseCertificates(certificatePem)[0]);
    return { resourceVersion: secret?.metadata?.resourceVersion, scheme: linkerdScheme ? 'linkerd' : 'external', certificatePem, facts };
  } catch {
    return undefined;
  }
}

/**
 * Why kubeha cannot sign a new issuer for the pair, or undefined when it can: adopted trust keeps the
 * anchors without their key (the operator's CA signed them), and a pair kubeha never linked has none.
 */
export async function whyNotRenewable(secrets: SecretStore, pairName: string, installed?: InstalledIssuer): Promise<string | undefined> {
  const names = trustSecretNames(pairName);
  if (!(await secrets.has(names.anchors)))
    return `kubeha keeps no trust anchor for mesh pair "${pairName}" (${names.anchors}): LinkMeshClusters has not run with this pairName`;
  if (!(await secrets.has(names.anchorKey)))
    return `the trust of mesh pair "${pairName}" was adopted (trust mode "adopt"): kubeha holds the anchors but not the anchor key, so it cannot sign a new issuer`;
  if (installed?.scheme === 'external')
    return `the issuer Secret ${LINKERD_NAMESPACE}/${ISSUER_SECRET} is in the kubernetes.io/tls scheme (tls.crt), which another owner such as cert-manager renews`;
  return undefined;
}

/** The hint of a refused renewal: what the operator does instead. */
export const NOT_RENEWABLE_HINT =
  'sign a new issuer (ECDSA P-256, CA, pathlen 0) with the anchor key you hold, then either `linkerd upgrade --identity-issuer-certificate-file ... --identity-issuer-key-file ...` and restart linkerd-identity, or run LinkMeshClusters again adopting the new issuer files; the watch keeps warning until then';

/** Reads the installed issuer's expiry and decides whether it is due (within `thresholdDays`). */
export async function issuerExpiry(client: KubeClient, secrets: SecretStore, input: IssuerExpiryInput, now = new Date()): Promise<IssuerExpiry> {
  const installed = await readInstalledIssuer(client);
  const refusal = await whyNotRenewable(secrets, input.pairName, installed);
  const renewability = refusal ? { renewable: false, notRenewableReason: refusal } : { renewable: true };
  if (!installed) {
    return {
      cluster: input.cluster,
      found: false,
      due: false,
      warning: `${input.cluster}: no readable Linkerd issuer in Secret ${LINKERD_NAMESPACE}/${ISSUER_SECRET} (is Linkerd installed?)`,
      ...renewability,
    };
  }
  const { notAfter, fingerprint } = installed.facts;
  const left = daysLeft(notAfter, now);
  const due = left < input.thresholdDays;
  const when = left <= 0 ? `expired at ${notAfter}` : `expires at ${notAfter} (in ${Math.floor(left)} days, within ${input.thresholdDays})`;
  return {
    cluster: input.cluster,
    found: true,
    fingerprint,
    notAfter,
    daysLeft: Math.floor(left),
    due,
    ...(due ? { warning: `${input.cluster}: the Linkerd issuer ${when}` } : {}),
    ...renewability,
  };
}
