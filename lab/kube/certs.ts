/**
 * `kubeadm certs ...`: `certificate-key`, `check-expiration [-o json]` (CertificateExpirationInfo,
 * output.kubeadm.k8s.io/v1alpha3, residual time in seconds) and `renew all|<name>` (re-signed by
 * the local CAs with the same subject and SANs; the static Pods must be restarted afterwards).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { flag, type ParsedArgs, UsageError } from './args';
import { CAS, type CaName, hasCertAndKey, KUBECONFIGS, LEAVES, pkiPaths, readCertAndKey, writeCertAndKey } from './clusterPki';
import { KUBE } from './env';
import { KubeadmError } from './errors';
import { parseKubeconfig } from './kubeconfig';
import { loadKey, newCert, parseCert } from './pki';
import type { Out } from './phases';

/** `kubeadm certs certificate-key`: 32 random bytes in hex. */
export function certificateKey(out: Out): void {
  out(randomBytes(32).toString('hex'));
}

function certsDir(args: ParsedArgs): string {
  return flag(args, 'cert-dir') ?? KUBE.pki;
}

interface Entry {
  name: string;
  expirationDate: string | null;
  residualTime: number;
  externallyManaged: boolean;
  caName?: string;
  missing?: boolean;
}

function entry(name: string, pem: string | undefined, caName: string | undefined, externallyManaged = false): Entry {
  if (!pem) return { name, expirationDate: null, residualTime: 0, externallyManaged: false, missing: true };
  const cert = parseCert(pem);
  return {
    name,
    expirationDate: cert.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    residualTime: Math.trunc((cert.notAfter.getTime() - Date.now()) / 1000),
    ...(caName ? { caName } : {}),
    externallyManaged,
  };
}

function kubeconfigCert(file: string): string | undefined {
  const full = path.join(KUBE.dir, file);
  if (!existsSync(full)) return undefined;
  return parseKubeconfig(readFileSync(full, 'utf8')).user.clientCertificatePem;
}

/** The check-expiration report, certificates and CAs sorted by name as kubeadm lists them. */
export function expirationInfo(dir: string): { certificates: Entry[]; certificateAuthorities: Entry[] } {
  const read = (base: string): string | undefined => (existsSync(pkiPaths(dir, base).crt) ? readFileSync(pkiPaths(dir, base).crt, 'utf8') : undefined);
  const caCheckName = (ca: CaName): string => CAS[ca].checkName;
  const certificates = [
    ...LEAVES.map((l) => entry(l.checkName, read(l.base), caCheckName(l.ca))),
    ...KUBECONFIGS.filter((k) => k.checked).map((k) => entry(k.file, kubeconfigCert(k.file), 'ca')),
  ].sort((a, b) => a.name.localeCompare(b.name));
  const certificateAuthorities = (Object.keys(CAS) as CaName[])
    .map((ca) => {
      const base = CAS[ca].base;
      // A CA without its key on this host is "externally managed".
      return entry(CAS[ca].checkName, read(base), undefined, read(base) !== undefined && !existsSync(pkiPaths(dir, base).key));
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return { certificates, certificateAuthorities };
}

function residualText(seconds: number): string {
  if (seconds <= 0) return '<invalid>';
  const days = Math.floor(seconds / 86400);
  if (days >= 365) return `${Math.floor(days / 365)}y`;
  if (days > 0) return `${days}d`;
  return `${Math.floor(seconds / 3600)}h`;
}

function formatDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${month} ${String(d.getUTCDate()).padStart(2, '0')}, ${d.getUTCFullYear()} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
}

/** `kubeadm certs check-expiration [-o json|yaml]`. */
export function checkExpiration(args: ParsedArgs, out: Out): void {
  const info = expirationInfo(certsDir(args));
  const output = flag(args, 'output') ?? '';
  const doc = { kind: 'CertificateExpirationInfo', apiVersion: 'output.kubeadm.k8s.io/v1alpha3', ...info };
  if (output === 'json') return out(JSON.stringify(doc, null, 4));
  if (output === 'yaml') return out(stringify(doc).trimEnd());
  if (output !== '' && output !== 'text')
    throw new UsageError(
      `unable to match a printer suitable for the output format "${output}", allowed formats are: json,jsonpath,jsonpath-as-json,jsonpath-file,text,yaml`,
    );
  out(`[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...`);
  out(`[check-expiration] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.\n`);
  out('CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED');
  for (const c of info.certificates)
    out(
      `${c.name.padEnd(27)}${formatDate(c.expirationDate).padEnd(25)}${(c.missing ? '' : residualText(c.residualTime)).padEnd(16)}${(c.caName ?? '').padEnd(24)}${c.externallyManaged ? 'yes' : 'no'}`,
    );
  out('\nCERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED');
  for (const c of info.certificateAuthorities)
    out(
      `${c.name.padEnd(24)}${formatDate(c.expirationDate).padEnd(25)}${(c.missing ? '' : residualText(c.residualTime)).padEnd(16)}${c.externallyManaged ? 'yes' : 'no'}`,
    );
}

const YEAR_MS = 365 * 24 * 3600_000;

/** `kubeadm certs renew all|<name>`: same subject, SANs and key usages; a new key; one more year. */
export async function renew(args: ParsedArgs, out: Out): Promise<void> {
  const which = args.positional[0];
  if (!which) throw new UsageError('missing subcommand; "renew" is not meant to be run on its own');
  const dir = certsDir(args);
  const names = [...LEAVES.map((l) => l.checkName), ...KUBECONFIGS.filter((k) => k.checked).map((k) => k.file)];
  if (which !== 'all' && !names.includes(which)) throw new UsageError(`unknown command "${which}" for "kubeadm certs renew"`);
  out('[renew] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...');
  out("[renew] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.\n");
  const cas: Partial<Record<CaName, Awaited<ReturnType<typeof readCertAndKey>>>> = {};
  const caOf = async (name: CaName): Promise<Awaited<ReturnType<typeof readCertAndKey>>> => {
    if (!cas[name]) {
      if (!hasCertAndKey(dir, CAS[name].base))
        throw new KubeadmError(
          `failed to renew certificates: couldn't load the CA ${CAS[name].base}: open ${pkiPaths(dir, CAS[name].base).key}: no such file or directory`,
        );
      cas[name] = await readCertAndKey(dir, CAS[name].base);
    }
    return cas[name]!;
  };
  for (const leaf of LEAVES) {
    if (which !== 'all' && which !== leaf.checkName) continue;
    if (!existsSync(pkiPaths(dir, leaf.base).crt)) continue;
    const old = await readCertAndKey(dir, leaf.base);
    const ca = await caOf(leaf.ca);
    const sans = old.cert.getExtension('2.5.29.17') as { names?: { items?: { type: string; value: string }[] } } | null;
    const items = sans?.names?.items ?? [];
    const org = old.cert.subjectName.getField('O');
    const eku = old.cert.getExtension('2.5.29.37') as { usages?: string[] } | null;
    const usages: ('server' | 'client')[] = (eku?.usages ?? []).map((u) => (u === '1.3.6.1.5.5.7.3.1' ? 'server' : 'client'));
    const renewed = await newCert(
      ca,
      {
        commonName: old.cert.subjectName.getField('CN')[0] ?? '',
        organizations: org,
        usages,
        dnsNames: items.filter((i) => i.type === 'dns').map((i) => i.value),
        ips: items.filter((i) => i.type === 'ip').map((i) => i.value),
        validityMs: YEAR_MS,
      },
      'RSA-2048',
      old.key,
    );
    writeCertAndKey(dir, leaf.base, renewed);
    out(`${leaf.description} renewed`);
  }
  for (const def of KUBECONFIGS.filter((k) => k.checked)) {
    if (which !== 'all' && which !== def.file) continue;
    const file = path.join(KUBE.dir, def.file);
    if (!existsSync(file)) continue;
    const doc = parse(readFileSync(file, 'utf8')) as { users: { user: Record<string, string> }[] };
    const current = parseKubeconfig(readFileSync(file, 'utf8'));
    const old = parseCert(current.user.clientCertificatePem ?? '');
    const renewed = await newCert(
      await caOf('ca'),
      { commonName: old.subjectName.getField('CN')[0] ?? '', organizations: old.subjectName.getField('O'), usages: ['client'], validityMs: YEAR_MS },
      'RSA-2048',
      await loadKey(current.user.clientKeyPem ?? ''),
    );
    doc.users[0].user['client-certificate-data'] = Buffer.from(renewed.certPem).toString('base64');
    writeFileSync(file, stringify(doc, { lineWidth: 0 }), { mode: 0o600 });
    out(`${def.description} renewed`);
  }
  out(
    '\nDone renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.',
  );
}
