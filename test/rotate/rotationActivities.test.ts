/**
 * The rotation activities' decisions, on the in-memory kubeadm cluster the host activities are tested
 * with (test/hosts/fakeHostShell.ts), extended with certificate expiry, renewal and static pods. The
 * cluster is set up by the real host activities (kubeadm init, a control-plane join), so rotation
 * meets the secrets and Secret kube-system/kubeadm-certs they leave behind.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { uploadedCertsState } from '../../activities/hosts/cluster';
import { HostRunner, secretNames } from '../../activities/hosts/context';
import { PARKED_MANIFESTS } from '../../activities/rotation/certificates';
import { failureType } from '../../common/errors';
import { makeCaPem } from '../hosts/fakeHostShell';
import { assertNoSecretsOnCommandLines, cluster, cpA, cpB, cpC, DAY, threeVoters } from './certsWorld';

let caPem: string;
before(() => {
  caPem = makeCaPem();
});

describe('probeControlPlane', () => {
  test('a control plane with its CA key, a local API server and a Node is healthy; each defect is named', async () => {
    const w = await cluster(caPem);
    assert.deepEqual(await w.rotation.probeControlPlane({ host: cpA }), { host: 'cp-a', healthy: true });
    w.shell.filesOf('cp-b').delete('/etc/kubernetes/pki/ca.key');
    assert.match((await w.rotation.probeControlPlane({ host: cpB })).reason ?? '', /ca\.key is missing: this host cannot upload/);
    w.shell.apiDown.add('cp-a');
    const down = await w.rotation.probeControlPlane({ host: cpA });
    assert.equal(down.healthy, false);
    assert.match(down.reason ?? '', /API server does not answer on https:\/\/10\.20\.1\.11:6443\/readyz \(The connection to the server/);
    w.shell.unreachable.add('cp-a');
    assert.match((await w.rotation.probeControlPlane({ host: cpA })).reason ?? '', /^unreachable: cp-a: connect ECONNREFUSED/);
    assert.match((await w.rotation.probeControlPlane({ host: cpC })).reason ?? '', /admin\.conf is missing/);
  });
});

describe('uploadCertificateKey', () => {
  test('uploads under a new key, verifies it opens the certificates and the old key no longer does, and stores key and record', async () => {
    const w = await cluster(caPem);
    const names = secretNames('lab');
    const oldKey = await w.secrets.get(names.certificateKey);
    w.clock.now = new Date(w.clock.now.getTime() + 30 * 60_000);
    const info = await w.rotation.uploadCertificateKey({ clusterName: 'lab', host: cpA, keepKeyUploadedWithinMinutes: 10 });
    assert.equal(info.rotated, true);
    assert.equal(info.previousKeyRejected, true);
    assert.equal(info.certificateKeySecret, names.certificateKey);
    assert.equal(info.uploadedAt, w.clock.now.toISOString());
    assert.equal(Date.parse(info.expiresAt) - Date.parse(info.uploadedAt), 2 * 3600_000);
    assert.equal(JSON.stringify(info).includes(oldKey), false);
    const newKey = await w.secrets.get(names.certificateKey);
    assert.notEqual(newKey, oldKey);
    assert.deepEqual(JSON.parse(await w.secrets.get(info.recordSecret)), {
      certificateKey: newKey,
      uploadedAt: info.uploadedAt,
      expiresAt: info.expiresAt,
      host: 'cp-a',
    });
    const run = new HostRunner({ shell: w.shell, secrets: w.secrets, now: () => w.clock.now });
    assert.equal((await uploadedCertsState(run, cpA, newKey)).opens, true);
    assert.equal((await uploadedCertsState(run, cpA, oldKey)).opens, false);
    // The key travelled in a 0600 file that was removed after the upload.
    const write = w.shell.calls.filter((c) => c.kind === 'writeFile' && c.path?.endsWith('upload-certs.yaml')).at(-1);
    assert.equal(write?.mode, 0o600);
    assert.ok(write?.content?.includes(newKey));
    assert.equal(w.shell.filesOf('cp-a').has(write?.path as string), false);
    assertNoSecretsOnCommandLines(w.shell);
  });

  test('a control-plane join after the rotation succeeds with the stored key; one still holding the old key is rejected', async () => {
    const w = await cluster(caPem);
    const oldKey = await w.secrets.get(secretNames('lab').certificateKey);
    await w.rotation.uploadCertificateKey({ clusterName: 'lab', host: cpA, keepKeyUploadedWithinMinutes: 0 });
    w.shell.filesOf('cp-c').set('/etc/kubernetes/pki/ca.key', 'x');
    const joinInput = {
      clusterName: 'lab',
      host: cpC,
      controlPlane: true,
      controlPlaneEndpoint: 'lb.example:6443',
      join: w.init.join,
      kubeconfigSecret: w.init.kubeconfigSecret,
      repairVia: cpA,
    };
    const newKey = await w.secrets.get(secretNames('lab').certificateKey);
    await w.secrets.put(secretNames('lab').certificateKey, oldKey);
    await assert.rejects(w.hosts.kubeadmJoin(joinInput), (err: unknown) => failureType(err) === 'CredentialExpired');
    await w.secrets.put(secretNames('lab').certificateKey, newKey);
    const joined = await w.hosts.kubeadmJoin(joinInput);
    assert.equal(joined.alreadyJoined, false);
    assert.ok(w.shell.nodes.has('cp-c'));
  });

  test('a key uploaded moments ago is kept (no second upload); after the window, or with 0, a new one is uploaded', async () => {
    const w = await cluster(caPem);
    const first = await w.rotation.uploadCertificateKey({ clusterName: 'lab', host: cpA, keepKeyUploadedWithinMinutes: 10 });
    const uploads = () => w.shell.count(/^kubeadm init phase upload-certs/);
    const before = uploads();
    w.clock.now = new Date(w.clock.now.getTime() + 5 * 60_000);
    const again = await w.rotation.uploadCertificateKey({ clusterName: 'lab', host: cpB, keepKeyUploadedWithinMinutes: 10 });
    assert.equal(again.rotated, false);
    assert.equal(again.uploadedAt, first.uploadedAt);
    assert.equal(again.host, 'cp-a');
    assert.equal(uploads(), before);
    const forced = await w.rotation.uploadCertificateKey({ clusterName: 'lab', host: cpB, keepKeyUploadedWithinMinutes: 0 });
    assert.equal(forced.rotated, true);
    assert.equal(uploads(), before + 1);
    w.clock.now = new Date(w.clock.now.getTime() + 11 * 60_000);
    assert.equal((await w.rotation.uploadCertificateKey({ clusterName: 'lab', host: cpA, keepKeyUploadedWithinMinutes: 10 })).rotated, true);
  });
});

describe('certificate expiry and renewal', () => {
  test('check-expiration reports the soonest kubeadm-managed leaf (externally managed and missing ones ignored)', async () => {
    const w = await cluster(caPem);
    w.shell.expiry.set('cp-a', w.clock.now.getTime() + 12 * DAY);
    const certs = await w.rotation.certificateExpiration({ host: cpA });
    assert.equal(certs.soonest?.name, 'apiserver');
    assert.equal(certs.soonest?.expiresAt, new Date(w.clock.now.getTime() + 12 * DAY).toISOString());
    assert.equal(certs.certificateAuthorities[0].name, 'ca');
    assert.ok(certs.certificates.some((c) => c.name === 'front-proxy-client' && c.externallyManaged));
  });

  test('nothing due: no renewal and no restart', async () => {
    const w = await cluster(caPem);
    const result = await w.rotation.renewCertificates({
      clusterName: 'lab',
      host: cpA,
      renewIfExpiresBefore: new Date(w.clock.now.getTime() + 30 * DAY).toISOString(),
      restartWaitSeconds: 20,
      apiTimeoutSeconds: 60,
    });
    assert.deepEqual([result.renewed, result.restarted], [false, []]);
    assert.equal(w.shell.count(/renew all|sleep/), 0);
  });

  test('due: quorum checked, renew all, one detached park-wait-put-back script, the API and etcd waited for, expiry verified, kubeconfig stored', async () => {
    const w = await threeVoters(caPem);
    w.shell.expiry.set('cp-a', w.clock.now.getTime() + 10 * DAY);
    const result = await w.rotation.renewCertificates({
      clusterName: 'lab',
      host: cpA,
      renewIfExpiresBefore: new Date(w.clock.now.getTime() + 30 * DAY).toISOString(),
      restartWaitSeconds: 20,
      apiTimeoutSeconds: 60,
    });
    assert.equal(result.renewed, true);
    assert.deepEqual(result.restarted, ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']);
    assert.equal(result.soonestExpiresAt, new Date(w.clock.now.getTime() + 365 * DAY).toISOString());
    const runs = w.shell.calls.filter((c) => c.host === 'cp-a' && c.kind === 'run').map((c) => c.command);
    const index = (test: (c: string) => boolean, after = -1) => runs.findIndex((c, i) => i > after && test(c));
    const health = index((c) => c.endsWith('endpoint health --cluster -w json'));
    const renew = index((c) => c.startsWith('kubeadm certs renew all'), health);
    const restart = index((c) => c.includes(`mkdir -p ${PARKED_MANIFESTS}`), renew);
    const waitApi = index((c) => c.startsWith('for i in $(seq 20)'), restart);
    const healthAgain = index((c) => c.endsWith('endpoint health --cluster -w json'), waitApi);
    const recheck = index((c) => c.startsWith('kubeadm certs check-expiration'), healthAgain);
    assert.ok(
      [health, renew, restart, waitApi, healthAgain, recheck].every((i) => i >= 0),
      `quorum check, renew, restart, API, etcd health, check again: in that order\n${runs.join('\n')}`,
    );
    // Park, wait and put back are ONE command that outlives the session: a lost worker never leaves the control plane stopped.
    const script = runs[restart];
    assert.ok(script.includes('sleep 20') && script.includes(`for f in ${PARKED_MANIFESTS}/*.yaml`), script);
    assert.match(script, / > \S+restart-static-pods\.log 2>&1 < \/dev\/null & echo \$! > \S+restart-static-pods\.pid; wait \$!/);
    assert.equal(runs.filter((c) => /^sleep \d+$/.test(c)).length, 0, 'no separate wait over the session');
    assert.ok(w.shell.filesOf('cp-a').has('/etc/kubernetes/manifests/kube-apiserver.yaml'), 'manifests are back');
    assert.match(await w.secrets.get(secretNames('lab').kubeconfig), /renewed admin of cp-a/);
    assert.equal(w.shell.count(/renew all/), 1);
    assert.equal(result.kubeconfigStored, true);
  });

  test('two voters: parking one loses quorum, so the renewal is refused (Conflict) and nothing is renewed or parked', async () => {
    const w = await cluster(caPem);
    w.shell.expiry.set('cp-a', w.clock.now.getTime() + 10 * DAY);
    await assert.rejects(
      w.rotation.renewCertificates({
        clusterName: 'lab',
        host: cpA,
        renewIfExpiresBefore: new Date(w.clock.now.getTime() + 30 * DAY).toISOString(),
        restartWaitSeconds: 20,
        apiTimeoutSeconds: 60,
      }),
      (err: unknown) => {
        assert.equal(failureType(err), 'Conflict');
        assert.match((err as Error).message, /etcd has 2 voter\(s\): stopping cp-a's for the restart leaves 1, under the quorum of 2/);
        return true;
      },
    );
    assert.equal(w.shell.count(/renew all|mkdir -p \S*parked-manifests/), 0, 'nothing renewed, nothing parked');
  });

  test('another member already down: the renewal waits (NotReady, retryable) and changes nothing', async () => {
    const w = await threeVoters(caPem);
    w.shell.expiry.set('cp-a', w.clock.now.getTime() + 10 * DAY);
    w.shell.unhealthyMembers.add('cp-d');
    await assert.rejects(
      w.rotation.renewCertificates({
        clusterName: 'lab',
        host: cpA,
        renewIfExpiresBefore: new Date(w.clock.now.getTime() + 30 * DAY).toISOString(),
        restartWaitSeconds: 20,
        apiTimeoutSeconds: 60,
      }),
      (err: unknown) => {
        assert.equal(failureType(err), 'NotReady');
        assert.match((err as Error).message, /etcd member\(s\) cp-d are unhealthy: restarting cp-a's control plane now could lose quorum/);
        return true;
      },
    );
    assert.equal(w.shell.count(/renew all|mkdir -p \S*parked-manifests/), 0, 'nothing renewed, nothing parked');
  });

  test('manifests left parked by an interrupted attempt are put back first', async () => {
    const w = await cluster(caPem);
    const files = w.shell.filesOf('cp-b');
    files.delete('/etc/kubernetes/manifests/kube-apiserver.yaml');
    files.set(`${PARKED_MANIFESTS}/kube-apiserver.yaml`, 'kube-apiserver.yaml');
    const result = await w.rotation.renewCertificates({
      clusterName: 'lab',
      host: cpB,
      renewIfExpiresBefore: new Date(w.clock.now.getTime() + DAY).toISOString(),
      restartWaitSeconds: 20,
      apiTimeoutSeconds: 30,
    });
    assert.equal(result.renewed, false);
    assert.deepEqual(result.restarted, ['kube-apiserver.yaml']);
    assert.ok(files.has('/etc/kubernetes/manifests/kube-apiserver.yaml'));
  });

  test('an API server that does not come back fails NotReady (retryable) with a hint', async () => {
    const w = await threeVoters(caPem);
    w.shell.expiry.set('cp-a', w.clock.now.getTime() + DAY);
    w.shell.staysDown.add('cp-a');
    await assert.rejects(
      w.rotation.renewCertificates({
        clusterName: 'lab',
        host: cpA,
        renewIfExpiresBefore: new Date(w.clock.now.getTime() + 30 * DAY).toISOString(),
        restartWaitSeconds: 20,
        apiTimeoutSeconds: 30,
      }),
      (err: unknown) => {
        assert.equal(failureType(err), 'NotReady');
        assert.match((err as Error).message, /cp-a: its API server does not answer .* 30 s after the restart/);
        return true;
      },
    );
  });
});
