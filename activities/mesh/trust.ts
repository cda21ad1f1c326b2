/**
 * The pair's trust material in the worker's secret store: one anchor bundle and one issuer per cluster,
 * generated in process or adopted from files. History holds the secret names only. Idempotent: what is
 * stored and still good is kept; an issuer that no longer chains to the anchors, or has expired, is
 * replaced (generate mode) or refused (adopt mode).
 */
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { TrustInput } from '../../common/inputs/linkMeshClusters';
import { resolveSecretRef, type SecretStore } from '../secrets/store';
import { bundleFingerprints, certificateFacts, checkTrust, createIssuer, createTrustAnchor, parseCertificates, toSec1, type TrustProblem } from './pki';
import type { IssuerRef, MeshRole, TrustMaterial } from './types';

const ROLES: MeshRole[] = ['west', 'east'];

/** Secret-store names of the pair's trust material. */
export function trustSecretNames(pairName: string) {
  const base = `mesh/${pairName}/trust`;
  return {
    anchors: `${base}/anchors.crt`,
    anchorKey: `${base}/anchor.key`,
    issuerCertificate: (role: MeshRole) => `${base}/${role}/issuer.crt`,
    issuerKey: (role: MeshRole) => `${base}/${role}/issuer.key`,
  };
}

/** An input problem in the adopted trust, naming the field. */
function invalidTrust(issues: Array<{ path: string; message: string }>): Error {
  return kubehaFailure({
    type: ErrorType.InvalidInput,
    message: `invalid trust: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    retryable: false,
    hint: 'fix the named trust files (anchors and issuers must be ECDSA P-256 CAs, each issuer signed by an anchor and not expired); nothing was changed',
    details: { issues },
  });
}

/** The adopted material read from the input's files, as text. */
export interface AdoptedTrust {
  anchorsPem: string;
  issuers: Record<MeshRole, { certificatePem: string; keyPem: string }>;
}

/**
 * Reads and checks adopted trust files. Every problem is reported with its input field
 * (`trust.issuers.east.certificate`), before anything is stored or installed.
 */
export async function readAdoptedTrust(
  trust: Extract<TrustInput, { mode: 'adopt' }>,
  now = new Date(),
): Promise<{ adopted: AdoptedTrust; warnings: string[] }> {
  const issues: Array<{ path: string; message: string }> = [];
  const read = async (path: string, ref: Parameters<typeof resolveSecretRef>[0]): Promise<string> => {
    try {
      return await resolveSecretRef(ref);
    } catch (err) {
      issues.push({ path, message: (err as Error).message });
      return '';
    }
  };
  const anchorsPem = await read('trust.anchors', trust.anchors);
  const issuers = {} as AdoptedTrust['issuers'];
  for (const role of ROLES) {
    issuers[role] = {
      certificatePem: await read(`trust.issuers.${role}.certificate`, trust.issuers[role].certificate),
      keyPem: await read(`trust.issuers.${role}.key`, trust.issuers[role].key),
    };
  }
  if (issues.length) throw invalidTrust(issues);
  const warnings: string[] = [];
  const fieldOf = (role: MeshRole, p: TrustProblem) =>
    p.subject === 'anchors' ? 'trust.anchors' : /key/.test(p.message) ? `trust.issuers.${role}.key` : `trust.issuers.${role}.certificate`;
  for (const role of ROLES) {
    const issuer = issuers[role];
    // Linkerd reads only SEC1 keys: a PKCS#8 key is converted rather than refused.
    try {
      issuer.keyPem = toSec1(issuer.keyPem);
    } catch {
      // reported by checkTrust as unreadable
    }
    for (const problem of await checkTrust(anchorsPem, issuer, now)) {
      if (problem.subject === 'anchors' && role === 'east') continue; // reported once, with west
      if (problem.severity === 'error') issues.push({ path: fieldOf(role, problem), message: problem.message });
      else warnings.push(`${fieldOf(role, problem)}: ${problem.message}`);
    }
  }
  if (issues.length) throw invalidTrust(issues);
  return { adopted: { anchorsPem, issuers }, warnings };
}

async function putIfChanged(secrets: SecretStore, name: string, value: string, created: string[]): Promise<void> {
  if ((await secrets.has(name)) && (await secrets.get(name)) === value) return;
  await secrets.put(name, value);
  created.push(name);
}

async function stored(secrets: SecretStore, name: string): Promise<string | undefined> {
  return (await secrets.has(name)) ? secrets.get(name) : undefined;
}

/**
 * Makes sure the store holds the pair's anchors and both issuers, and returns their names and facts.
 * Generate mode keeps a stored anchor that is valid for more than 60 days, and each stored issuer
 * that still chains to it and is valid; adopt mode stores exactly the files' content.
 */
export async function ensureTrust(secrets: SecretStore, pairName: string, trust: TrustInput, dryRun: boolean, now = new Date()): Promise<TrustMaterial> {
  const names = trustSecretNames(pairName);
  const created: string[] = [];
  const warnings: string[] = [];
  let anchorsPem: string;
  const issuers = {} as Record<MeshRole, { certificatePem: string; keyPem: string }>;

  if (trust.mode === 'adopt') {
    const read = await readAdoptedTrust(trust, now);
    warnings.push(...read.warnings);
    anchorsPem = read.adopted.anchorsPem;
    Object.assign(issuers, read.adopted.issuers);
    if (!dryRun) {
      await putIfChanged(secrets, names.anchors, anchorsPem, created);
      for (const role of ROLES) {
        await putIfChanged(secrets, names.issuerCertificate(role), issuers[role].certificatePem, created);
        await putIfChanged(secrets, names.issuerKey(role), issuers[role].keyPem, created);
      }
    }
  } else {
    const storedAnchors = await stored(secrets, names.anchors);
    const storedKey = await stored(secrets, names.anchorKey);
    const anchorProblems =
      storedAnchors && storedKey
        ? (await checkTrust(storedAnchors, { certificatePem: '' }, now)).filter((p) => p.subject === 'anchors')
        : [{ subject: 'anchors' as const, severity: 'error' as const, message: 'no stored anchor' }];
    let anchor: { certificatePem: string; keyPem: string };
    if (storedAnchors && storedKey && anchorProblems.length === 0) {
      anchor = { certificatePem: storedAnchors, keyPem: storedKey };
    } else {
      // A stored anchor that expires within 60 days is NOT silently replaced: clusters trust it, and a
      // new anchor needs a rotation (bundle both), which is an operator's decision.
      if (storedAnchors && anchorProblems.every((p) => p.severity === 'warning')) {
        anchor = { certificatePem: storedAnchors, keyPem: storedKey as string };
        warnings.push(...anchorProblems.map((p) => `anchors: ${p.message}`));
      } else {
        anchor = await createTrustAnchor(trust.anchorValidityHours, now);
        if (!dryRun) {
          await secrets.put(names.anchorKey, anchor.keyPem);
          await secrets.put(names.anchors, anchor.certificatePem);
        }
        created.push(names.anchors, names.anchorKey);
      }
    }
    anchorsPem = anchor.certificatePem;
    for (const role of ROLES) {
      const certificatePem = await stored(secrets, names.issuerCertificate(role));
      const keyPem = await stored(secrets, names.issuerKey(role));
      const problems =
        certificatePem && keyPem ? (await checkTrust(anchorsPem, { certificatePem, keyPem }, now)).filter((p) => p.subject === 'issuer') : undefined;
      if (certificatePem && keyPem && problems && !problems.some((p) => p.severity === 'error')) {
        issuers[role] = { certificatePem, keyPem };
        warnings.push(...problems.map((p) => `${role} issuer: ${p.message}`));
        continue;
      }
      issuers[role] = await createIssuer(anchor, trust.issuerValidityHours, now);
      if (!dryRun) {
        await secrets.put(names.issuerKey(role), issuers[role].keyPem);
        await secrets.put(names.issuerCertificate(role), issuers[role].certificatePem);
      }
      created.push(names.issuerCertificate(role), names.issuerKey(role));
    }
  }

  const anchorFacts = await Promise.all(parseCertificates(anchorsPem).map((c) => certificateFacts(c)));
  const refs = {} as Record<MeshRole, IssuerRef>;
  for (const role of ROLES) {
    const facts = await certificateFacts(parseCertificates(issuers[role].certificatePem)[0]);
    refs[role] = {
      certificateSecret: names.issuerCertificate(role),
      keySecret: names.issuerKey(role),
      fingerprint: facts.fingerprint,
      notAfter: facts.notAfter,
    };
  }
  return {
    anchorsSecret: names.anchors,
    anchorFingerprints: await bundleFingerprints(anchorsPem),
    anchorsNotAfter: anchorFacts.map((f) => f.notAfter).sort()[0],
    issuers: refs,
    created,
    warnings,
  };
}
