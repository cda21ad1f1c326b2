import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  KubeadmOutputError,
  parseCertificateExpiration,
  parseCertificateKey,
  parseInitOutput,
  parseJoinCommand,
  parsePrintJoinCommand,
  parseToken,
  parseUploadCertsKey,
  tokenId,
} from '../../activities/hosts/kubeadmOutput';
import { projectRoot } from '../../lib/paths';

const fixture = (name: string): string => readFileSync(path.join(projectRoot, 'test/fixtures/kubeadm', name), 'utf8');

const HASH = 'sha256:06a77f294328be84a153207342db0467c0634e68bd626cf9e0fafb7f706f6f2b';
const KEY_A = 'c5cd0516bd0f9f56bfaa339485a264aeea1251e9b8c308fd1e4bec08c4667057';
const KEY_B = 'd36465079364ee077c1e143ba440e3a5b3567ca1035400c6e647550114da4ba0';
const TOKEN_A = 'ntblkw.1hrffrksb3baznfw';
const TOKEN_B = 'brmm91.drvdxy02svq0yuei';
const NLB = 'kube-api-lab-4f1c9e27b0d35a68.elb.us-east-1.amazonaws.com:6443';

describe('kubeadm init output', () => {
  test('tab-indented continuations: control-plane and worker join commands', () => {
    const parsed = parseInitOutput(fixture('init-upload-certs-tab-indent.txt'));
    assert.deepEqual(parsed.controlPlane, { endpoint: NLB, token: TOKEN_A, caCertHashes: [HASH], controlPlane: true, certificateKey: KEY_A });
    assert.deepEqual(parsed.worker, { endpoint: NLB, token: TOKEN_A, caCertHashes: [HASH], controlPlane: false });
    assert.equal(parsed.caCertHash, HASH);
  });

  test('space-indented continuations parse the same way', () => {
    const parsed = parseInitOutput(fixture('init-upload-certs-space-indent.txt'));
    assert.equal(parsed.controlPlane?.certificateKey, KEY_B);
    assert.equal(parsed.controlPlane?.endpoint, '10.20.0.100:6443');
    assert.equal(parsed.worker.token, TOKEN_B);
    assert.equal(parsed.caCertHash, HASH);
  });

  test('Windows line endings (CRLF) change nothing', () => {
    const crlf = fixture('init-upload-certs-tab-indent.txt').replace(/\n/g, '\r\n');
    assert.deepEqual(parseInitOutput(crlf), parseInitOutput(fixture('init-upload-certs-tab-indent.txt')));
  });

  test('without a control-plane endpoint there is only the worker command', () => {
    const parsed = parseInitOutput(fixture('init-single-node-no-endpoint.txt'));
    assert.equal(parsed.controlPlane, undefined);
    assert.equal(parsed.worker.endpoint, '10.20.1.11:6443');
    assert.equal(parsed.worker.controlPlane, false);
  });

  test('withheld token and key (--skip-token-print) parse as absent, the hash is still there', () => {
    const parsed = parseInitOutput(fixture('init-skip-token-print.txt'));
    assert.equal(parsed.worker.token, undefined);
    assert.equal(parsed.controlPlane?.certificateKey, undefined);
    assert.equal(parsed.controlPlane?.controlPlane, true);
    assert.equal(parsed.caCertHash, HASH);
  });

  test('warnings and log lines around the join commands are ignored', () => {
    const noisy = `W0203 10:00:00.000000    1 warnings.go:70] something about kubeadm join syntax\n${fixture('init-upload-certs-space-indent.txt')}\nI0203 10:00:01.000000 done\n`;
    assert.equal(parseInitOutput(noisy).worker.token, TOKEN_B);
  });

  test('an output without join commands (init failed half-way) is a clear error', () => {
    assert.throws(
      () => parseInitOutput(fixture('init-preflight-already-initialized.txt')),
      (err: Error) => err instanceof KubeadmOutputError && /no worker join command/.test(err.message),
    );
  });

  test('malformed values are rejected without echoing them', () => {
    const badHash = 'kubeadm join 10.0.0.1:6443 --token ntblkw.1hrffrksb3baznfw --discovery-token-ca-cert-hash sha256:abc';
    assert.throws(() => parseJoinCommand(badHash), /ca-cert-hash is not "sha256:" and 64 hex/);
    const badToken = 'kubeadm join 10.0.0.1:6443 --token NOT-A-TOKEN --discovery-token-ca-cert-hash ' + HASH;
    assert.throws(
      () => parseJoinCommand(badToken),
      (err: Error) => /--token is not a bootstrap token/.test(err.message) && !err.message.includes('NOT-A-TOKEN'),
    );
    assert.throws(() => parseJoinCommand(`kubeadm join --token ${TOKEN_A} --discovery-token-ca-cert-hash ${HASH}`), /API endpoint/);
    assert.throws(() => parseJoinCommand(`kubeadm join 10.0.0.1:6443 --token ${TOKEN_A}`), /no --discovery-token-ca-cert-hash/);
    assert.throws(
      () => parseJoinCommand(`kubeadm join 10.0.0.1:6443 --token ${TOKEN_A} --discovery-token-ca-cert-hash ${HASH} --certificate-key ${KEY_A}`),
      /without --control-plane/,
    );
    assert.throws(() => parseJoinCommand(`kubeadm join 10.0.0.1:6443 --token`), /--token has no value/);
  });

  test('--flag=value forms and several CA pins are understood', () => {
    const parsed = parseJoinCommand(
      `sudo kubeadm join [fd00::1]:6443 --token=${TOKEN_A} --discovery-token-ca-cert-hash=${HASH} --discovery-token-ca-cert-hash ${HASH.replace('06a7', 'ffff')} --control-plane --certificate-key=${KEY_A}`,
    );
    assert.equal(parsed.endpoint, '[fd00::1]:6443');
    assert.equal(parsed.caCertHashes.length, 2);
    assert.equal(parsed.certificateKey, KEY_A);
  });
});

describe('kubeadm token create --print-join-command', () => {
  test('one line, continuations stripped by kubeadm, worker form', () => {
    const cmd = parsePrintJoinCommand(fixture('token-create-print-join-command.txt'));
    assert.deepEqual(cmd, { endpoint: NLB, token: TOKEN_B, caCertHashes: [HASH], controlPlane: false });
  });

  test('with --certificate-key it is the control-plane form', () => {
    const cmd = parsePrintJoinCommand(fixture('token-create-print-join-command-control-plane.txt'));
    assert.equal(cmd.controlPlane, true);
    assert.equal(cmd.certificateKey, KEY_B);
  });

  test('zero or two commands are an error', () => {
    assert.throws(() => parsePrintJoinCommand('nothing here\n'), /found 0/);
    const line = fixture('token-create-print-join-command.txt');
    assert.throws(() => parsePrintJoinCommand(line + line), /found 2/);
  });
});

describe('keys and tokens', () => {
  test('kubeadm certs certificate-key: 64 hex characters', () => {
    assert.equal(parseCertificateKey(fixture('certs-certificate-key.txt')), KEY_A);
    assert.equal(parseCertificateKey(`W0203 warning on stdout\r\n${KEY_A}\r\n`), KEY_A);
    assert.throws(() => parseCertificateKey('c5cd0516\n'), /no certificate key/);
    assert.throws(() => parseCertificateKey(`${KEY_A}\n${KEY_B}\n`), /more than one certificate key/);
  });

  test('kubeadm token create / generate: one bootstrap token', () => {
    assert.equal(parseToken(fixture('token-create.txt')), TOKEN_B);
    assert.throws(() => parseToken('ABCDEF.0123456789ABCDEF\n'), /no bootstrap token/);
    assert.equal(tokenId(TOKEN_B), 'brmm91');
  });

  test('the key reported by upload-certs (alone or inside init output)', () => {
    assert.equal(parseUploadCertsKey(fixture('upload-certs.txt')), KEY_B);
    assert.equal(parseUploadCertsKey(fixture('init-upload-certs-tab-indent.txt')), KEY_A);
    assert.throws(() => parseUploadCertsKey('[upload-certs] Skipping phase. Please see --upload-certs\n'), /Using certificate key/);
  });
});

describe('kubeadm certs check-expiration -o json', () => {
  test('residualTime in seconds (current kubeadm), CAs, missing certificates', () => {
    const info = parseCertificateExpiration(fixture('check-expiration-seconds.json'));
    assert.equal(info.certificates.length, 5);
    const apiserver = info.certificates.find((c) => c.name === 'apiserver');
    assert.deepEqual(apiserver, {
      name: 'apiserver',
      expiresAt: '2026-11-04T09:12:46.000Z',
      residualSeconds: 31535096,
      externallyManaged: false,
      missing: false,
      caName: 'ca',
    });
    const missing = info.certificates.find((c) => c.name === 'super-admin.conf');
    assert.deepEqual(missing, { name: 'super-admin.conf', missing: true, externallyManaged: false });
    assert.equal(info.certificateAuthorities.length, 3);
    assert.equal(info.certificateAuthorities[0].caName, undefined);
    assert.equal(info.certificateAuthorities[0].residualSeconds, 315272296);
  });

  test('residualTime in nanoseconds (kubeadm 1.30) is converted to seconds, expired ones go negative', () => {
    const info = parseCertificateExpiration(fixture('check-expiration-nanoseconds.json'));
    assert.equal(info.certificates[0].residualSeconds, 30 * 24 * 3600);
    assert.equal(info.certificates[1].residualSeconds, -30);
    assert.equal(info.certificateAuthorities[0].externallyManaged, true);
    assert.equal(info.certificateAuthorities[0].residualSeconds, 283824000);
  });

  test('wrong documents are clear errors', () => {
    assert.throws(() => parseCertificateExpiration('CERTIFICATE   EXPIRES'), /not JSON/);
    assert.throws(
      () => parseCertificateExpiration('{"kind":"UpgradePlan","apiVersion":"output.kubeadm.k8s.io/v1alpha3"}'),
      /kind is not CertificateExpirationInfo/,
    );
    assert.throws(() => parseCertificateExpiration('{"kind":"CertificateExpirationInfo","apiVersion":"v1"}'), /apiVersion/);
    assert.throws(
      () =>
        parseCertificateExpiration(
          '{"kind":"CertificateExpirationInfo","apiVersion":"output.kubeadm.k8s.io/v1alpha3","certificates":[{"name":"ca","residualTime":5,"missing":false}]}',
        ),
      /\(ca\) has no RFC 3339 expirationDate/,
    );
  });
});
