/**
 * The lab's hosts-file block: only the lines between the markers change, rewrites are atomic, and
 * the real /etc/hosts round trip works (the name resolves through the system resolver while the
 * lab runs, and the block is gone after stop).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lbInput } from '../../aws/helpers';
import { removeHostsBlock, withHostsBlock, writeHostsBlock } from '../../../lab/aws/hostsFile';
import { firstLine, startBackend, startTestLab, useTcpHealthChecks } from './helpers';

const ORIGINAL = '127.0.0.1 localhost\n\n# keep me\n10.0.0.1   db.internal db\n';

describe('hosts-file block', () => {
  test('adds a block after the existing lines, replaces it in place, and removes it leaving the rest byte for byte', () => {
    const one = withHostsBlock(ORIGINAL, [{ address: '127.0.99.1', names: ['a.elb.amazonaws.com'] }]);
    assert.equal(one, `${ORIGINAL}# kubeha-lab begin\n127.0.99.1 a.elb.amazonaws.com\n# kubeha-lab end\n`);
    const moved = `${one}192.168.1.1 after.block\n`;
    const two = withHostsBlock(moved, [
      { address: '127.0.99.1', names: ['a.elb.amazonaws.com'] },
      { address: '127.0.99.2', names: ['b.elb.amazonaws.com'] },
    ]);
    assert.equal(
      two,
      `${ORIGINAL}# kubeha-lab begin\n127.0.99.1 a.elb.amazonaws.com\n127.0.99.2 b.elb.amazonaws.com\n# kubeha-lab end\n192.168.1.1 after.block\n`,
    );
    assert.equal(withHostsBlock(two, []), `${ORIGINAL}192.168.1.1 after.block\n`);
    assert.equal(withHostsBlock(ORIGINAL, []), ORIGINAL, 'no block, nothing to remove');
  });

  test('a labelled block leaves the unlabelled one (another lab) alone', () => {
    const ours = withHostsBlock(ORIGINAL, [{ address: '127.0.99.1', names: ['main.elb'] }]);
    const both = withHostsBlock(ours, [{ address: '127.0.98.1', names: ['test.elb'] }], 'test-1');
    assert.match(
      both,
      /# kubeha-lab begin\n127\.0\.99\.1 main\.elb\n# kubeha-lab end\n# kubeha-lab begin test-1\n127\.0\.98\.1 test\.elb\n# kubeha-lab end test-1\n$/,
    );
    assert.equal(withHostsBlock(both, [], 'test-1'), ours);
  });

  test('a file without a trailing newline keeps its last line intact', () => {
    assert.equal(
      withHostsBlock('127.0.0.1 localhost', [{ address: '127.0.99.3', names: ['c'] }]),
      '127.0.0.1 localhost\n# kubeha-lab begin\n127.0.99.3 c\n# kubeha-lab end\n',
    );
  });

  test('writeHostsBlock rewrites through a temporary file, keeps the mode, and reports whether it changed anything', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kubeha-hosts-'));
    try {
      const file = path.join(dir, 'hosts');
      await writeFile(file, ORIGINAL);
      await chmod(file, 0o640);
      const inodeBefore = (await stat(file)).ino;
      assert.equal(await writeHostsBlock(file, [{ address: '127.0.99.4', names: ['d'] }]), true);
      assert.equal(await writeHostsBlock(file, [{ address: '127.0.99.4', names: ['d'] }]), false, 'same block: no write');
      const after = await stat(file);
      assert.equal(after.mode & 0o777, 0o640);
      assert.notEqual(after.ino, inodeBefore, 'replaced by rename, not edited in place');
      assert.deepEqual(await readdir(dir), ['hosts'], 'no temporary file left');
      assert.equal(await removeHostsBlock(file), true);
      assert.equal(await readFile(file, 'utf8'), ORIGINAL);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the real /etc/hosts: the NLB name resolves to its address while the lab runs, and the block is gone after stop', async () => {
    const before = await readFile('/etc/hosts', 'utf8');
    // A label of its own, so a lab already running on this machine keeps its block.
    const label = `test-${process.pid}`;
    const t = await startTestLab(94, { hostsFile: '/etc/hosts', hostsBlockLabel: label, healthCheckIntervalScale: 0.02 });
    const backend = await startBackend('real-dns', '127.0.94.101');
    let dnsName = '';
    try {
      const lb = await t.aws.ensureLoadBalancer(lbInput(t.settings, { name: 'kh-etc-hosts' }));
      await useTcpHealthChecks(t, lb.targetGroupArn);
      dnsName = lb.dnsName;
      await t.lab.sync();
      const address = t.lab.status().loadBalancers[0]?.address;
      const during = await readFile('/etc/hosts', 'utf8');
      assert.ok(during.startsWith(before.trimEnd()), 'the existing lines are untouched');
      assert.match(during, new RegExp(`# kubeha-lab begin ${label}\\n${address?.replace(/\./g, '\\.')} ${dnsName}\\n# kubeha-lab end ${label}\\n`));
      assert.deepEqual(await lookup(dnsName, { family: 4 }), { address, family: 4 });

      await t.aws.registerTarget({ aws: t.settings, targetGroupArn: lb.targetGroupArn, ip: backend.host, port: backend.port });
      await t.aws.waitTargetHealthy({
        aws: t.settings,
        targetGroupArn: lb.targetGroupArn,
        ip: backend.host,
        port: backend.port,
        deadlineSeconds: 20,
        pollSeconds: 1,
      });
      assert.equal(await firstLine(dnsName, 6443), 'real-dns', 'a client that knows only the DNS name reaches the target');
    } finally {
      await backend.close();
      await t.cleanup();
    }
    assert.doesNotMatch(await readFile('/etc/hosts', 'utf8'), new RegExp(label));
    await assert.rejects(lookup(dnsName, { family: 4 }), (err: NodeJS.ErrnoException) => err.code === 'ENOTFOUND');
  });
});
