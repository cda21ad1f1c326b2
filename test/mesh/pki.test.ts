/**
 * Linkerd's identity PKI made in process: checked by the real openssl CLI (chain, extensions, key
 * algorithm, key form) and by kubeha's own trust rules, which the workflow's preflight applies.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { certificateFacts, checkTrust, createIssuer, createTrustAnchor, parseCertificates, type KeyedCertificate } from '../../activities/mesh/pki';

const run = promisify(execFile);
const openssl = async (...args: string[]) => (await run('openssl', args)).stdout;

let dir: string;
let anchor: KeyedCertificate;
let issuer: KeyedCertificate;
const file = (name: string) => path.join(dir, name);

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-pki-'));
  anchor = await createTrustAnchor(87_600);
  issuer = await createIssuer(anchor, 8760);
  await writeFile(file('ca.crt'), anchor.certificatePem);
  await writeFile(file('issuer.crt'), issuer.certificatePem);
  await writeFile(file('issuer.key'), issuer.keyPem, { mode: 0o600 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trust anchor and issuer', () => {
  test('openssl verifies the chain anchor -> issuer', async () => {
    const out = await openssl('verify', '-CAfile', file('ca.crt'), file('issuer.crt'));
    assert.match(out, /issuer\.crt: OK/);
  });

  test('a different anchor does not verify the issuer', async () => {
    const other = await createTrustAnchor(87_600);
    await writeFile(file('other.crt'), other.certificatePem);
    await assert.rejects(openssl('verify', '-CAfile', file('other.crt'), file('issuer.crt')), /verification failed|unable to get local issuer/);
  });

  test('extensions and algorithms are what Linkerd expects (as openssl reads them)', async () => {
    const text = await openssl('x509', '-in', file('issuer.crt'), '-noout', '-text');
    assert.match(text, /Subject: CN\s*=\s*identity\.linkerd\.cluster\.local/);
    assert.match(text, /Issuer: CN\s*=\s*root\.linkerd\.cluster\.local/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    const root = await openssl('x509', '-in', file('ca.crt'), '-noout', '-text');
    assert.match(root, /Subject: CN\s*=\s*root\.linkerd\.cluster\.local/);
    assert.match(root, /X509v3 Basic Constraints: critical\s+CA:TRUE\s/);
    assert.doesNotMatch(root, /pathlen/);
    assert.match(root, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  });

  test('validity follows the input: issuer 8760 h, never past the anchor', async () => {
    const facts = await certificateFacts(parseCertificates(issuer.certificatePem)[0]);
    const hours = (Date.parse(facts.notAfter) - Date.now()) / 3600_000;
    assert.ok(hours > 8759 && hours <= 8760, `issuer lives ${hours} h`);
    const shortAnchor = await createTrustAnchor(48);
    const capped = await createIssuer(shortAnchor, 8760);
    const [a, i] = [parseCertificates(shortAnchor.certificatePem)[0], parseCertificates(capped.certificatePem)[0]];
    assert.equal(i.notAfter.getTime(), a.notAfter.getTime());
  });

  test('the issuer key is a SEC1 "EC PRIVATE KEY" on P-256 matching the certificate (the only form Linkerd reads)', async () => {
    assert.match(issuer.keyPem, /^-----BEGIN EC PRIVATE KEY-----/);
    const check = await run('openssl', ['ec', '-in', file('issuer.key'), '-check', '-noout'], { encoding: 'utf8' });
    assert.match(check.stderr + check.stdout, /EC Key valid/);
    const fromKey = (await run('openssl', ['ec', '-in', file('issuer.key'), '-pubout'])).stdout;
    const fromCert = (await run('openssl', ['x509', '-in', file('issuer.crt'), '-noout', '-pubkey'])).stdout;
    assert.equal(fromKey, fromCert);
  });

  test('kubeha accepts a good pair and names each problem of bad ones', async () => {
    assert.deepEqual(await checkTrust(anchor.certificatePem, issuer), []);
    const stranger = await createIssuer(await createTrustAnchor(1000), 100);
    const notSigned = await checkTrust(anchor.certificatePem, stranger);
    assert.ok(notSigned.some((p) => p.subject === 'issuer' && p.severity === 'error' && /not signed by any of the trust anchors/.test(p.message)));
    const wrongKey = await checkTrust(anchor.certificatePem, { certificatePem: issuer.certificatePem, keyPem: stranger.keyPem });
    assert.ok(wrongKey.some((p) => /key does not belong/.test(p.message)));
    const later = new Date(Date.now() + 8760 * 3600_000 + 86_400_000);
    const expired = await checkTrust(anchor.certificatePem, issuer, later);
    assert.ok(expired.some((p) => p.subject === 'issuer' && p.severity === 'error' && /expired/.test(p.message)));
    const soon = new Date(Date.now() + (8760 - 24 * 30) * 3600_000);
    const warning = await checkTrust(anchor.certificatePem, issuer, soon);
    assert.deepEqual(
      warning.map((p) => [p.subject, p.severity]),
      [['issuer', 'warning']],
    );
    assert.match(warning[0].message, /expires in 29 days/);
  });

  test('an RSA anchor is refused: Linkerd needs ECDSA P-256', async () => {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      file('rsa.key'),
      '-out',
      file('rsa.crt'),
      '-subj',
      '/CN=root.linkerd.cluster.local',
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]);
    const rsa = (await run('cat', [file('rsa.crt')])).stdout;
    const problems = await checkTrust(rsa, issuer);
    assert.ok(
      problems.some((p) => p.subject === 'anchors' && /RSASSA-PKCS1-v1_5 2048|RSA/.test(p.message) && /ECDSA P-256/.test(p.message)),
      JSON.stringify(problems),
    );
  });
});
