/**
 * waitHostsBack against a real sshd: a host that answers is back at once; one whose sshd is gone is not,
 * until it listens again (the activity keeps trying while it heartbeats); with none back, the deadline
 * ends the wait with an empty list.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRecoveryActivities } from '../../activities/recovery';
import type { HostsBack } from '../../activities/recovery/hostsBack';
import { FileSecretStore } from '../../activities/secrets/store';
import { createSshShell } from '../../activities/ssh/shell';
import type { RemoteShell } from '../../activities/ssh/types';
import type { HostSpec } from '../../common/inputs/shared';
import { freePort } from '../../lib/freePort';
import { hostFor, startSshd, type TestSshd } from '../support/sshd';
import { knownHostsIn, scratchDir } from '../ssh/helpers';

describe('waitHostsBack', { timeout: 120_000 }, () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let sshd: TestSshd;
  let shell: RemoteShell;
  let up: HostSpec;
  let down: HostSpec;

  before(async () => {
    scratch = await scratchDir('kubeha-hosts-back-');
    sshd = await startSshd();
    shell = createSshShell({ knownHosts: knownHostsIn(scratch.dir) });
    up = hostFor(sshd, { name: 'cp-1' });
    // Nothing listens on this port: connection refused, as for a stopped machine's sshd.
    down = { ...hostFor(sshd, { name: 'cp-2' }), ssh: { ...up.ssh, port: await freePort(), connectTimeoutSeconds: 2 } };
  });
  after(async () => {
    await shell?.close();
    await sshd?.stop();
    await scratch?.cleanup();
  });

  const activities = () => createRecoveryActivities({ shell, secrets: new FileSecretStore(scratch.dir) });

  test('a host that answers is back at once; one that does not is left out', async () => {
    const result: HostsBack = await new MockActivityEnvironment().run(() =>
      activities().waitHostsBack({ hosts: [down, up], timeoutSeconds: 60, pollSeconds: 2 }),
    );
    assert.deepEqual(result.back, ['cp-1']);
    assert.ok(result.waitedSeconds < 10, `waited ${result.waitedSeconds} s`);
  });

  test('with no host answering it heartbeats until the deadline and returns none', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result: HostsBack = await env.run(() => activities().waitHostsBack({ hosts: [down], timeoutSeconds: 4, pollSeconds: 2 }));
    assert.deepEqual(result.back, []);
    assert.ok(result.waitedSeconds >= 4, `waited ${result.waitedSeconds} s`);
    assert.ok(beats.length >= 1, 'it heartbeats while it waits');
    assert.deepEqual((beats[0] as { waitingFor: string[] }).waitingFor, ['cp-2']);
  });
});
