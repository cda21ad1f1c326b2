/**
 * When no etcd member answers (a west that lost quorum: etcd 3.5+ refuses `member list` without it),
 * FailoverToEast records "quorum unknown", leaves the spare out and still moves the traffic: an etcd
 * check that cannot answer never holds the failover.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { FailoverStatus } from '../../common/inputs/failoverToEast';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { failoverInput, failoverWorker, FakeFailoverWorld, notification } from './fakeFailoverWorld';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  await env?.teardown();
});

test('no etcd member answers: quorum unknown is recorded, no spare registered, traffic moves anyway', { timeout: 120_000 }, async () => {
  const world = new FakeFailoverWorld();
  for (const ip of ['10.0.1.11', '10.0.1.12', '10.0.1.13']) world.targets.set(ip, 'unhealthy');
  const asked: string[] = [];
  const activities = {
    ...world.allActivities(),
    etcdMembers: async ({ host }: { host: { name: string } }) => {
      asked.push(host.name);
      throw kubehaFailure({
        type: ErrorType.Unreachable,
        message: `etcdctl member list failed on ${host.name}: context deadline exceeded`,
        retryable: true,
        hint: 'etcd has no quorum',
      });
    },
  };
  const ssh = { user: 'root', port: 22, privateKey: { file: '/etc/kubeha/ssh/id_ed25519' }, trustOnFirstUse: true };
  const controlPlane = {
    aws: { region: 'us-east-1', subnetIds: ['subnet-0a1b2c3d'] },
    targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/kube-api-west/1',
    controlPlanes: ['cp-1', 'cp-2', 'cp-3'].map((name, i) => ({ name, address: `10.0.1.1${i + 1}`, role: 'control-plane' as const, ssh })),
    spares: [{ name: 'spare-1', address: '10.0.2.11', role: 'spare-control-plane' as const, ssh }],
  };
  const { worker, taskQueue } = await failoverWorker(env, activities);
  const started = Date.now();
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart('FailoverToEast', {
      args: [failoverInput({ controlPlane })],
      taskQueue,
      workflowId: `quorum-unknown-${Date.now()}`,
      signal: 'alert',
      signalArgs: [notification('firing')],
    });
    const s = await eventually(
      async () => {
        const now = await handle.query<FailoverStatus>('status');
        return now.state === 'failed-over' ? now : undefined;
      },
      60_000,
      'failed over',
    );
    assert.deepEqual(s.eastPercent, { 'test/podinfo': 100 });
    assert.deepEqual(s.sparesRegistered, []);
    const unknown = s.decisions.find((d) => d.what === 'QuorumUnknown');
    assert.match(unknown?.why ?? '', /quorum unknown: spares not registered, traffic shift goes on \(spare-1: etcdctl member list failed on spare-1/);
    await handle.signal('failback');
    await handle.result();
  });
  assert.deepEqual([...new Set(asked)], ['spare-1', 'cp-1', 'cp-2', 'cp-3'], 'every host was asked, spare first');
  assert.ok(asked.length <= 8, `a short retry per host (${asked.length} calls)`);
  assert.ok(Date.now() - started < 60_000, 'it did not wait long on etcd');
  assert.equal(world.calls.filter((c) => c.name === 'registerTarget').length, 0);
  assert.deepEqual(world.shiftRequests, [50, 100, 50, 0]);
});
