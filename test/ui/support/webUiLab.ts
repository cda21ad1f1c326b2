/**
 * The world of the Web UI test: its small lab's topology, FailoverToEast's worker with stub activities
 * on the dev stack, and the check that a screenshot was written.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { defaultTopologyInput, parseTopology } from '../../../lab/orchestrator';
import { kubehaDataConverter } from '../../../lib/codec/dataConverter';
import { failoverBundle, type FakeFailoverWorld } from '../../failover/fakeFailoverWorld';

/** West with one control plane and one worker, on this test's own addresses, load balancer prefix and hosts block. */
export function webUiTopology() {
  const west = defaultTopologyInput().clusters[0];
  return parseTopology({
    clusters: [
      {
        ...west,
        hosts: [
          { name: 'webui-cp-1', address: '127.0.13.101', role: 'control-plane' },
          { name: 'webui-worker-1', address: '127.0.13.102', role: 'worker' },
        ],
      },
    ],
    loadBalancerAddressPrefix: '127.0.83',
    hostsBlockLabel: `webui-${process.pid}`,
  });
}

/** Fails the test unless the screenshot was written (and is more than an empty image). */
export function assertScreenshot(file: string): void {
  assert.ok(existsSync(file) && statSync(file).size > 1_000, `screenshot ${file} was written`);
}

/** FailoverToEast with stub activities, on a queue of its own; it decrypts what the UI encrypted. */
export async function stubFailoverWorker(connection: NativeConnection, taskQueue: string, world: FakeFailoverWorld): Promise<Worker> {
  return Worker.create({
    connection,
    taskQueue,
    workflowBundle: await failoverBundle(),
    activities: world.allActivities(),
    dataConverter: kubehaDataConverter().dataConverter,
    shutdownGraceTime: '1 second',
  });
}
