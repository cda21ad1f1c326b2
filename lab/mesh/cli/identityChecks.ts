/**
 * The `linkerd-identity` category of `linkerd check`: the issuer Secret and the anchors in the stored
 * values, their algorithms, validity, the 60-day expiry warnings, and the issuer's chain to the anchors,
 * with the descriptions, hint anchors and error texts of linkerd2's healthcheck.
 */
import type { X509Certificate } from 'node:crypto';
import { algorithmError, chainError, commonNameOf, decodeCertificates, expiringSoonError, keyError, serialOf, validityError } from './certs';
import type { Category } from './checks';
import type { CheckedCluster } from './cluster';
import { notFound } from './kube';
import { ISSUER_CRT_KEY, ISSUER_KEY_KEY, ISSUER_SCHEME, ISSUER_SECRET } from './names';

/** The issuer Secret's keys under the external (`kubernetes.io/tls`) scheme. */
const EXTERNAL_KEYS = { crt: 'tls.crt', key: 'tls.key', anchors: 'ca.crt' };

interface IdentityState {
  issuer?: X509Certificate;
  anchors: X509Certificate[];
}

const keyMissing = (key: string, what: string, external: boolean) =>
  `key ${key} containing the ${what} needs to exist in secret ${ISSUER_SECRET} if --identity-external-issuer=${external}`;

/** checkCertificatesConfig: the issuer and anchors Linkerd's identity uses. */
async function readIdentity(cluster: CheckedCluster, state: IdentityState): Promise<void> {
  const values = cluster.values ?? (await cluster.readValues());
  const secret = await cluster.client.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${cluster.namespace}/secrets/${ISSUER_SECRET}`);
  if (!secret) throw new Error(notFound('secrets', ISSUER_SECRET));
  const data = secret.data ?? {};
  const text = (key: string) => Buffer.from(data[key], 'base64').toString('utf8');
  const external = (values.identity?.issuer?.scheme ?? ISSUER_SCHEME) !== ISSUER_SCHEME;
  const keys = external ? EXTERNAL_KEYS : { crt: ISSUER_CRT_KEY, key: ISSUER_KEY_KEY, anchors: '' };
  if (external && !data[keys.anchors]) throw new Error(keyMissing(keys.anchors, 'trust anchors', true));
  if (!data[keys.crt]) throw new Error(keyMissing(keys.crt, 'issuer certificate', false));
  if (!data[keys.key]) throw new Error(keyMissing(keys.key, 'issuer key', true));
  let issuer: X509Certificate;
  try {
    [issuer] = decodeCertificates(text(keys.crt));
  } catch (err) {
    throw new Error(`could not parse issuer certificate: ${(err as Error).message}`);
  }
  const key = keyError(issuer, text(keys.key));
  if (key) throw new Error(key);
  state.issuer = issuer;
  state.anchors = decodeCertificates(external ? text(keys.anchors) : (values.identityTrustAnchorsPEM ?? ''));
}

/** Each anchor failing `rule`, as `* <serial> <CN> <error>`. */
function anchorProblems(anchors: X509Certificate[], rule: (a: X509Certificate) => string | undefined): string[] {
  return anchors.flatMap((a) => {
    const problem = rule(a);
    return problem ? [`* ${serialOf(a)} ${commonNameOf(a)} ${problem}`] : [];
  });
}

function failIf(problems: string[], title: string): void {
  if (problems.length) throw new Error(`${title}:\n\t${problems.join('\n\t')}`);
}

/** The category, reading `cluster` at `now`. */
export function identityCategory(cluster: CheckedCluster, now: () => Date = () => new Date()): Category {
  const state: IdentityState = { anchors: [] };
  const issuer = () => state.issuer as X509Certificate;
  const issuerRule = (prefix: string, error: string | undefined) => {
    if (error) throw new Error(`${prefix}${error}`);
  };
  return {
    name: 'linkerd-identity',
    checkers: [
      { description: 'certificate config is valid', hintAnchor: 'l5d-identity-cert-config-valid', fatal: true, check: () => readIdentity(cluster, state) },
      {
        description: 'trust anchors are using supported crypto algorithm',
        hintAnchor: 'l5d-identity-trustAnchors-use-supported-crypto',
        fatal: true,
        check: async () =>
          failIf(
            anchorProblems(state.anchors, (a) => algorithmError(a, 'anchor')),
            'Invalid trustAnchors',
          ),
      },
      {
        description: 'trust anchors are within their validity period',
        hintAnchor: 'l5d-identity-trustAnchors-are-time-valid',
        fatal: true,
        check: async () =>
          failIf(
            anchorProblems(state.anchors, (a) => validityError(a, now())),
            'Invalid anchors',
          ),
      },
      {
        description: 'trust anchors are valid for at least 60 days',
        hintAnchor: 'l5d-identity-trustAnchors-not-expiring-soon',
        warning: true,
        check: async () =>
          failIf(
            anchorProblems(state.anchors, (a) => expiringSoonError(a, now())),
            'Anchors expiring soon',
          ),
      },
      {
        description: 'issuer cert is using supported crypto algorithm',
        hintAnchor: 'l5d-identity-issuer-cert-uses-supported-crypto',
        fatal: true,
        check: async () => issuerRule('issuer certificate ', algorithmError(issuer(), 'issuer')),
      },
      {
        description: 'issuer cert is within its validity period',
        hintAnchor: 'l5d-identity-issuer-cert-is-time-valid',
        fatal: true,
        check: async () => issuerRule('issuer certificate is ', validityError(issuer(), now())),
      },
      {
        description: 'issuer cert is valid for at least 60 days',
        hintAnchor: 'l5d-identity-issuer-cert-not-expiring-soon',
        warning: true,
        check: async () => issuerRule('issuer certificate ', expiringSoonError(issuer(), now())),
      },
      {
        description: 'issuer cert is issued by the trust anchor',
        hintAnchor: 'l5d-identity-issuer-cert-issued-by-trust-anchor',
        check: async () => issuerRule('', chainError(issuer(), state.anchors, now())),
      },
    ],
  };
}
