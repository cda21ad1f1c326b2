/**
 * etcd member parsing against a REAL etcd (Debian etcd-server, on 127.0.0.1 with free ports): the
 * uint64 member ids must come out in hex exactly as etcdctl prints them, learners must be seen,
 * and `member remove <hex>` must accept what we print. The CA pin is checked against openssl.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memberOfHost, parseEndpointHealth, parseMemberList, withHealth } from '../../activities/hosts/etcd';
import { caCertHash, checkUploadedCerts, openUploadedCert } from '../../activities/hosts/pki';
import { freePort } from '../../lib/freePort';

describe('etcdctl JSON from a real etcd', () => {
  let dir: string;
  let etcd: ChildProcess;
  let clientUrl: string;
  const etcdctl = (...args: string[]): string =>
    execFileSync('etcdctl', [`--endpoints=${clientUrl}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-etcd-'));
    const [client, peer] = [await freePort(), await freePort()];
    clientUrl = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    etcd = spawn(
      'etcd',
      [
        '--name',
        'cp-a',
        '--data-dir',
        path.join(dir, 'data'),
        '--listen-client-urls',
        clientUrl,
        '--advertise-client-urls',
        clientUrl,
        '--listen-peer-urls',
        peerUrl,
        '--initial-advertise-peer-urls',
        peerUrl,
        '--initial-cluster',
        `cp-a=${peerUrl}`,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      try {
        etcdctl('endpoint', 'health');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('etcd did not start');
  });

  after(() => {
    etcd?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  test('member ids are hex as in the table output, a never-started learner is seen by its peer URL', () => {
    etcdctl('member', 'add', 'cp-b', '--peer-urls', 'https://10.20.2.12:2380', '--learner');
    const members = parseMemberList(etcdctl('member', 'list', '-w', 'json'));
    const table = etcdctl('member', 'list')
      .trim()
      .split('\n')
      .map((line) => line.split(', ')[0]);
    assert.deepEqual(members.map((m) => m.id).sort(), table.sort());
    const started = members.find((m) => m.name === 'cp-a');
    assert.ok(started && !started.isLearner && started.clientUrls[0] === clientUrl);
    const learner = memberOfHost(members, { name: 'cp-b', address: '10.20.2.12' });
    assert.ok(learner, 'the unstarted learner is found by its peer URL');
    assert.equal(learner.name, '');
    assert.equal(learner.isLearner, true);
    assert.deepEqual(learner.clientUrls, []);

    const health = parseEndpointHealth(etcdctl('endpoint', 'health', '--cluster', '-w', 'json'));
    const joined = withHealth(members, health);
    assert.equal(joined.find((m) => m.name === 'cp-a')?.healthy, true);
    assert.equal(joined.find((m) => m.id === learner.id)?.healthy, false);

    // The printed id is what `etcdctl member remove` takes.
    etcdctl('member', 'remove', learner.id);
    assert.equal(parseMemberList(etcdctl('member', 'list', '-w', 'json')).length, 1);
  });

  test('ids above 2^53 keep every digit', () => {
    const text =
      '{"header":{"cluster_id":15118495548433857066},"members":[{"ID":18446744073709551615,"name":"x","peerURLs":[],"clientURLs":[]},{"ID":12,"name":"y"}]}';
    assert.deepEqual(
      parseMemberList(text).map((m) => m.id),
      ['ffffffffffffffff', 'c'],
    );
    assert.throws(() => parseMemberList('{"header":{}}'), /no "members" list/);
    assert.throws(() => parseMemberList('Error: context deadline exceeded'), /not JSON/);
  });

  test('unhealthy endpoints keep their error', () => {
    const health = parseEndpointHealth('[{"endpoint":"https://10.0.0.2:2379","health":false,"took":"5s","error":"context deadline exceeded"}]');
    assert.deepEqual(health, [{ endpoint: 'https://10.0.0.2:2379', health: false, error: 'context deadline exceeded' }]);
  });
});

describe('PKI checks', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-pki-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the CA pin equals what the openssl recipe from the kubeadm docs computes', () => {
    for (const algorithm of [
      ['-newkey', 'rsa:2048'],
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
    ]) {
      const crt = path.join(dir, 'ca.crt');
      execFileSync(
        'openssl',
        ['req', '-x509', ...algorithm, '-nodes', '-keyout', path.join(dir, 'ca.key'), '-out', crt, '-days', '1', '-subj', '/CN=kubernetes'],
        { stdio: 'ignore' },
      );
      const pem = execFileSync('openssl', ['x509', '-in', crt], { encoding: 'utf8' });
      const expected = execFileSync('sh', ['-c', `openssl x509 -pubkey -noout -in ${crt} | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1`], {
        encoding: 'utf8',
      }).trim();
      assert.equal(caCertHash(pem), `sha256:${expected}`);
    }
  });

  test('a certificate key opens what was sealed with it (AES-GCM, nonce first) and nothing else', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const sealed = Buffer.concat([nonce, cipher.update(pem), cipher.final(), cipher.getAuthTag()]);
    assert.equal(openUploadedCert(sealed, key.toString('hex'))?.toString(), pem);
    assert.equal(openUploadedCert(sealed, randomBytes(32).toString('hex')), undefined);
    const secret = JSON.stringify({
      data: { 'ca.crt': sealed.toString('base64') },
      metadata: { ownerReferences: [{ kind: 'Secret', name: 'bootstrap-token-x1y2z3' }] },
    });
    assert.deepEqual(checkUploadedCerts(secret, key.toString('hex')), { opens: true, ownerTokenId: 'x1y2z3' });
    assert.equal(checkUploadedCerts(secret, randomBytes(32).toString('hex')).opens, false);
  });
});
