/**
 * stop() leaves nothing behind: no proxy listener, no open proxied connection, no front, no moto
 * process, no hosts-file block (and the file's other lines as they were).
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { lbInput } from '../../aws/helpers';
import { firstLine, HOSTS_PREAMBLE, startBackend, startTestLab, type Backend, type TestLab, useTcpHealthChecks } from './helpers';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('lab AWS lifecycle', () => {
  let t: TestLab | undefined;
  let backend: Backend | undefined;
  after(async () => {
    await backend?.close();
    await t?.cleanup();
  });

  test('stop() closes the proxies and their connections, the front and moto, and removes the hosts-file block', async () => {
    t = await startTestLab(93, { healthCheckIntervalScale: 0.02 });
    const lb = await t.aws.ensureLoadBalancer(lbInput(t.settings, { name: 'kh-life' }));
    await useTcpHealthChecks(t, lb.targetGroupArn);
    backend = await startBackend('life', '127.0.93.101');
    await t.aws.registerTarget({ aws: t.settings, targetGroupArn: lb.targetGroupArn, ip: backend.host, port: backend.port });
    await t.aws.waitTargetHealthy({
      aws: t.settings,
      targetGroupArn: lb.targetGroupArn,
      ip: backend.host,
      port: backend.port,
      deadlineSeconds: 20,
      pollSeconds: 1,
    });
    const address = t.lab.status().loadBalancers[0]?.address ?? '';
    assert.equal(await firstLine(address, 6443), 'life');
    assert.notEqual(await readFile(t.hostsFile, 'utf8'), HOSTS_PREAMBLE, 'the block is there while the lab runs');

    const open = connect({ host: address, port: 6443 });
    await once(open, 'data');
    assert.equal(t.lab.status().loadBalancers[0]?.listeners[0]?.openConnections, 1);
    const closed = once(open, 'close');
    const pid = t.lab.motoPid ?? 0;
    assert.ok(alive(pid), 'moto runs');

    await t.lab.stop();

    await closed;
    assert.equal(await firstLine(address, 6443), 'ECONNREFUSED', 'nothing listens on the NLB address');
    await assert.rejects(fetch(`${t.lab.endpoint}/kubeha-lab/status`), 'the front is closed');
    assert.equal(alive(pid), false, 'moto_server has exited');
    assert.equal(await readFile(t.hostsFile, 'utf8'), HOSTS_PREAMBLE, 'the hosts file is back as it was');
    assert.equal(backend.accepted > 0, true);
  });
});
