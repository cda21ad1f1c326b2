/**
 * Starting and watching FailoverToEast in its tests: signal-with-start with the firing alert as the
 * webhook does, the status query, and the control-plane part of the input with west's etcd to match.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { FailoverStatus, FailoverToEastInput } from '../../common/inputs/failoverToEast';
import { eventually } from '../support/workflowHarness';
import { type FakeFailoverWorld, notification } from './fakeFailoverWorld';

/** A workflow id of its own for one run. */
export const newId = (what: string) => `failover-${what}-${Math.random().toString(36).slice(2)}`;

/** Starts the run as the webhook does: signal-with-start with the firing alert. */
export function startFiringOn(client: Client, input: FailoverToEastInput, taskQueue: string, workflowId = newId('t')): Promise<WorkflowHandle> {
  return client.workflow.signalWithStart('FailoverToEast', { args: [input], taskQueue, workflowId, signal: 'alert', signalArgs: [notification('firing')] });
}

/** The run's `status` query. */
export function status(handle: WorkflowHandle): Promise<FailoverStatus> {
  return handle.query<FailoverStatus>('status');
}

/** The status once the run is in `state`. */
export function untilState(handle: WorkflowHandle, state: FailoverStatus['state'], timeoutMs = 20_000): Promise<FailoverStatus> {
  return eventually(
    async () => {
      const s = await status(handle);
      return s.state === state ? s : undefined;
    },
    timeoutMs,
    `state ${state}`,
  );
}

/** A west control plane of the input, the spare, and the target group. */
export function controlPlaneInput() {
  const ssh = { user: 'root', port: 22, privateKey: { file: '/etc/kubeha/ssh/id_ed25519' }, trustOnFirstUse: true };
  return {
    aws: { region: 'us-east-1', subnetIds: ['subnet-0a1b2c3d'] },
    targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/kube-api-west/1',
    controlPlanes: [
      { name: 'cp-1', address: '10.0.1.11', role: 'control-plane' as const, ssh },
      { name: 'cp-2', address: '10.0.1.12', role: 'control-plane' as const, ssh },
      { name: 'cp-3', address: '10.0.1.13', role: 'control-plane' as const, ssh },
    ],
    spares: [{ name: 'spare-1', address: '10.0.2.11', role: 'spare-control-plane' as const, ssh }],
  };
}

/** West's etcd: 3 control planes and the spare, `healthy` of them healthy (the spare first). */
export function seedEtcd(world: FakeFailoverWorld, healthy: number): void {
  const names = ['spare-1', 'cp-1', 'cp-2', 'cp-3'];
  names.forEach((name, i) => world.etcd.set(name, { id: String(i + 1), name, peerUrls: [], clientUrls: [], isLearner: false, healthy: i < healthy }));
}
