/**
 * What Linkerd has put on a cluster, read through the API, and kubeha's own identity checks on it
 * (the same rules as `linkerd check`'s "linkerd-identity" category, so they also run where the CLI
 * cannot: in tests, and before the CLI is installed).
 */
import type { KubeClient } from '../kubernetes/client';
import { bundleFingerprints, checkTrust } from './pki';
import type { InstalledLinkerd, MeshCheck } from './types';

/** Linkerd's control-plane namespace and identity objects (linkerd2 charts/linkerd-control-plane). */
export const LINKERD_NAMESPACE = 'linkerd';
export const TRUST_ROOTS_CONFIGMAP = 'linkerd-identity-trust-roots';
export const TRUST_ROOTS_KEY = 'ca-bundle.crt';
export const ISSUER_SECRET = 'linkerd-identity-issuer';
export const MULTICLUSTER_NAMESPACE = 'linkerd-multicluster';
export const GATEWAY_SERVICE = 'linkerd-gateway';
/** The label Linkerd's charts put on the control plane's workloads with their version. */
export const VERSION_LABEL = 'app.kubernetes.io/version';

interface ConfigMap {
  data?: Record<string, string>;
  metadata?: { labels?: Record<string, string> };
}
interface Secret {
  data?: Record<string, string>;
}

/** The trust roots bundle (PEM) the cluster's Linkerd trusts, or undefined when Linkerd is absent. */
export async function installedAnchorsPem(client: KubeClient): Promise<string | undefined> {
  const cm = await client.find<ConfigMap>(`/api/v1/namespaces/${LINKERD_NAMESPACE}/configmaps/${TRUST_ROOTS_CONFIGMAP}`);
  return cm?.data?.[TRUST_ROOTS_KEY];
}

/** What Linkerd runs on the cluster: its anchors' fingerprints and the control plane version. */
export async function installedLinkerd(client: KubeClient): Promise<InstalledLinkerd> {
  const pem = await installedAnchorsPem(client);
  let anchorFingerprints: string[] = [];
  if (pem) {
    try {
      anchorFingerprints = await bundleFingerprints(pem);
    } catch {
      anchorFingerprints = ['(unreadable trust roots)'];
    }
  }
  const deploy = await client.find<{ metadata?: { labels?: Record<string, string> } }>(
    `/apis/apps/v1/namespaces/${LINKERD_NAMESPACE}/deployments/linkerd-identity`,
  );
  const version = deploy?.metadata?.labels?.[VERSION_LABEL];
  return version ? { anchorFingerprints, version } : { anchorFingerprints };
}

/** The issuer certificate (PEM) Linkerd's identity controller uses, when readable. */
async function installedIssuerPem(client: KubeClient): Promise<string | undefined> {
  const secret = await client.find<Secret>(`/api/v1/namespaces/${LINKERD_NAMESPACE}/secrets/${ISSUER_SECRET}`);
  const data = secret?.data?.['tls.crt'] ?? secret?.data?.['crt.pem'];
  return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
}

const CATEGORY = 'kubeha identity';
const HINT = 'https://linkerd.io/2/checks/#l5d-identity';

/**
 * kubeha's identity checks on one cluster: trust roots present and valid, issuer signed by them, both
 * outside 60 days of expiry (warnings), and the anchors the pair expects (when given).
 */
export async function identityChecks(client: KubeClient, expectedAnchors?: string[], now = new Date()): Promise<MeshCheck[]> {
  const checks: MeshCheck[] = [];
  const add = (description: string, error?: string, status: MeshCheck['status'] = error ? 'error' : 'ok') =>
    checks.push({ category: CATEGORY, description, status, ...(error ? { error, hint: HINT } : {}) });
  const anchors = await installedAnchorsPem(client);
  if (!anchors) {
    add('trust roots config map exists', `ConfigMap ${LINKERD_NAMESPACE}/${TRUST_ROOTS_CONFIGMAP} is missing: Linkerd is not installed`);
    return checks;
  }
  add('trust roots config map exists');
  const issuer = await installedIssuerPem(client);
  const problems = await checkTrust(anchors, { certificatePem: issuer ?? '' }, now);
  const anchorProblems = problems.filter((p) => p.subject === 'anchors');
  const anchorErrors = anchorProblems.filter((p) => p.severity === 'error');
  add('trust anchors are valid', anchorErrors.map((p) => p.message).join('; ') || undefined);
  const anchorWarnings = anchorProblems.filter((p) => p.severity === 'warning');
  add('trust anchors are valid for at least 60 days', anchorWarnings.map((p) => p.message).join('; ') || undefined, anchorWarnings.length ? 'warning' : 'ok');
  if (!issuer) {
    add('issuer secret exists', `Secret ${LINKERD_NAMESPACE}/${ISSUER_SECRET} is missing or has no tls.crt`);
  } else {
    const issuerProblems = problems.filter((p) => p.subject === 'issuer');
    const errors = issuerProblems.filter((p) => p.severity === 'error');
    add('issuer cert is valid and issued by the trust anchor', errors.map((p) => p.message).join('; ') || undefined);
    const warnings = issuerProblems.filter((p) => p.severity === 'warning');
    add('issuer cert is valid for at least 60 days', warnings.map((p) => p.message).join('; ') || undefined, warnings.length ? 'warning' : 'ok');
  }
  if (expectedAnchors) {
    let installed: string[] = [];
    try {
      installed = await bundleFingerprints(anchors);
    } catch {
      // reported above as invalid anchors
    }
    const same = installed.length === expectedAnchors.length && installed.every((f, i) => f === [...expectedAnchors].sort()[i]);
    add("trust anchors are the pair's shared anchors", same ? undefined : `installed ${short(installed)}, expected ${short(expectedAnchors)}`);
  }
  return checks;
}

function short(fingerprints: string[]): string {
  return fingerprints.length ? fingerprints.map((f) => f.slice(0, 16)).join(',') : 'none';
}
