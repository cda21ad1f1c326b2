/**
 * kubeha's kubeadm failure classifiers against kubeadm's own texts (test/fixtures/kubeadm/
 * source-errors.json, written from kubeadm's source): every pattern must match something kubeadm
 * prints, and the failures kubeadm really produces must land in the right class.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  alreadySetUp,
  caPinMismatch,
  halfDoneEtcdJoin,
  KUBEADM_FAILURE_PATTERNS,
  rejectedCredential,
  transientNetwork,
} from '../../activities/hosts/kubeadmFailures';
import { KUBEADM_TEXTS, kubeadmText } from '../support/kubeadmTexts';

/** kubeadm's failure line: the phase, then each wrapped error joined with ": " (errors.Wrap). */
function phaseFailure(phase: string, ...chain: string[]): string {
  return `${kubeadmText('phase-error', phase)}: ${chain.join(': ')}\nTo see the stack trace of this error execute with --v=5 or higher\n`;
}

/** What each classifier says about one output. */
function classify(output: string): Record<string, unknown> {
  return {
    rejected: rejectedCredential(output),
    alreadySetUp: alreadySetUp(output),
    halfDone: halfDoneEtcdJoin(output),
    caPin: caPinMismatch(output),
    transient: transientNetwork(output),
  };
}

const errorTexts = KUBEADM_TEXTS.filter((t) => !t.info).map((t) => kubeadmText(t.id));

describe('kubeha classifies kubeadm failures by the texts kubeadm prints', () => {
  for (const [classifier, patterns] of Object.entries(KUBEADM_FAILURE_PATTERNS)) {
    test(`every ${classifier} pattern matches an error text of kubeadm's source`, () => {
      const unmatched = patterns.filter((p) => !errorTexts.some((t) => p.test(t))).map(String);
      assert.deepEqual(unmatched, [], `${classifier} looks for texts kubeadm never prints`);
    });
  }

  test('a half-done etcd join, as kubeadm fails it after skipping the existing member, is repairable', () => {
    const manifest = kubeadmText('etcd-join-manifest');
    // The member exists and is a voter: kubeadm waits for the cluster, then gives up (40 s).
    const unavailable = phaseFailure('etcd-join', manifest, kubeadmText('etcd-cluster-unavailable'));
    // The member is an unstarted learner whose etcd never comes up: MemberPromote gives up (2 min).
    const notStarted = phaseFailure('etcd-join', manifest, kubeadmText('etcd-member-not-started', 'a1b2c3d4e5f60718'));
    // The learner started but cannot catch up.
    const notInSync = phaseFailure('etcd-join', manifest, kubeadmText('etcd-learner-not-ready'));
    for (const output of [unavailable, notStarted, notInSync]) {
      assert.deepEqual(classify(output), { rejected: undefined, alreadySetUp: false, halfDone: true, caPin: false, transient: false }, output);
    }
  });

  test('rejected credentials: the token at discovery, the certificate key at download-certs', () => {
    const discovery = kubeadmText('discovery-identity');
    assert.equal(rejectedCredential(phaseFailure('preflight', discovery, kubeadmText('jws-signature-missing', 'zzzzzz'))), 'token');
    assert.equal(rejectedCredential(phaseFailure('preflight', discovery, kubeadmText('token-id-invalid', 'zzzzzz'))), 'token');
    assert.equal(rejectedCredential(phaseFailure('preflight', discovery, kubeadmText('jws-signature-invalid'))), 'token');
    const download = kubeadmText('download-certs');
    assert.equal(rejectedCredential(phaseFailure('control-plane-prepare/download-certs', download, kubeadmText('certs-secret-missing'))), 'certificate-key');
    assert.equal(
      rejectedCredential(phaseFailure('control-plane-prepare/download-certs', download, kubeadmText('certs-data-decode'), kubeadmText('gcm-open'))),
      'certificate-key',
    );
    assert.equal(
      rejectedCredential(
        phaseFailure('control-plane-prepare/download-certs', download, kubeadmText('certificate-key-decode'), "encoding/hex: invalid byte: U+007A 'z'"),
      ),
      'certificate-key',
    );
  });

  test('a CA that is not pinned is a mismatch, not a rejected token', () => {
    const output = phaseFailure('preflight', kubeadmText('discovery-identity'), kubeadmText('cluster-ca-invalid'), kubeadmText('public-key-not-pinned'));
    assert.deepEqual(classify(output), { rejected: undefined, alreadySetUp: false, halfDone: false, caPin: true, transient: false });
  });

  test('preflight: files, directories and ports an earlier run left are "already set up"; the host set-up checks are not', () => {
    const fatal = (lines: string[]) => `${kubeadmText('preflight-fatal')}\n${lines.join('\n')}\n${kubeadmText('preflight-hint')}\n`;
    assert.equal(alreadySetUp(fatal([kubeadmText('preflight-file-available')])), true);
    assert.equal(alreadySetUp(fatal([kubeadmText('preflight-dir-available')])), true);
    for (const port of [6443, 10250, 10257, 10259, 2379, 2380])
      assert.equal(alreadySetUp(fatal([kubeadmText('preflight-port', port, port)])), true, String(port));
    // A reset cannot fix forwarding or a missing runtime: those are not a half-done earlier run.
    assert.equal(alreadySetUp(fatal([kubeadmText('preflight-file-content')])), false);
    assert.equal(alreadySetUp(fatal([kubeadmText('preflight-cri-connect')])), false);
  });
});
