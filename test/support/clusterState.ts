/**
 * What the missing controllers and kubelets of the test API server would write: workload status
 * (rolled out or not) and Nodes with their Ready condition, through the API.
 */
import os from 'node:os';
import type { TestApiServer } from './apiserver';

/** Workload kinds the status helpers know. */
export type WorkloadKind = 'Deployment' | 'DaemonSet' | 'StatefulSet';

/** Identifies one workload. */
export interface WorkloadId {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

const WORKLOAD_RESOURCE: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  DaemonSet: 'daemonsets',
  StatefulSet: 'statefulsets',
};

function workloadPath(ref: WorkloadId): string {
  return `/apis/apps/v1/namespaces/${ref.namespace}/${WORKLOAD_RESOURCE[ref.kind]}/${ref.name}`;
}

function expectOk(what: string, res: { status: number; body: unknown }): void {
  if (res.status < 200 || res.status > 299) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
}

/** Replaces a workload's status (merge patch of the status subresource), as its controller would. */
export async function setWorkloadStatus(api: TestApiServer, ref: WorkloadId, status: Record<string, unknown>): Promise<void> {
  const res = await api.request('PATCH', `${workloadPath(ref)}/status`, { status }, 'application/merge-patch+json');
  expectOk(`status of ${ref.kind} ${ref.namespace}/${ref.name}`, res);
}

/**
 * Writes the status a finished rollout has: observedGeneration = generation and every count equal to
 * the desired replicas (`spec.replicas`, default 1; for a DaemonSet `desired`, default 1).
 */
export async function markRolledOut(api: TestApiServer, ref: WorkloadId, desired = 1): Promise<void> {
  const res = await api.request<{ metadata: { generation: number }; spec: { replicas?: number } }>('GET', workloadPath(ref));
  expectOk(`read ${ref.kind} ${ref.namespace}/${ref.name}`, res);
  const generation = res.body.metadata.generation;
  const replicas = res.body.spec.replicas ?? 1;
  const statusByKind: Record<WorkloadKind, Record<string, unknown>> = {
    Deployment: { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
    StatefulSet: {
      observedGeneration: generation,
      replicas,
      readyReplicas: replicas,
      currentReplicas: replicas,
      updatedReplicas: replicas,
      availableReplicas: replicas,
      currentRevision: `${ref.name}-1`,
      updateRevision: `${ref.name}-1`,
    },
    DaemonSet: {
      observedGeneration: generation,
      desiredNumberScheduled: desired,
      currentNumberScheduled: desired,
      numberMisscheduled: 0,
      numberReady: desired,
      updatedNumberScheduled: desired,
      numberAvailable: desired,
    },
  };
  await setWorkloadStatus(api, ref, statusByKind[ref.kind]);
}

/** What a stand-in kubelet reports for its node. */
export interface NodeOptions {
  ready?: boolean;
  controlPlane?: boolean;
  kubeletVersion?: string;
  /** Reason of the Ready condition. Default KubeletReady / KubeletNotReady. */
  reason?: string;
}

/** Registers a Node (as a kubelet would) and sets its Ready condition. Registering again only updates status. */
export async function registerNode(api: TestApiServer, name: string, options: NodeOptions = {}): Promise<void> {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' };
  if (options.controlPlane) labels['node-role.kubernetes.io/control-plane'] = '';
  const res = await api.request('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
  if (res.status !== 409) expectOk(`create node ${name}`, res);
  await setNodeReady(api, name, options.ready ?? true, options);
}

/** Sets a Node's Ready condition (and kubelet version), as its kubelet's status updates would. */
export async function setNodeReady(api: TestApiServer, name: string, ready: boolean, options: NodeOptions = {}): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const kubeletVersion = options.kubeletVersion ?? 'v1.37.2';
  const status = {
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        reason: options.reason ?? (ready ? 'KubeletReady' : 'KubeletNotReady'),
        message: ready ? 'kubelet is posting ready status' : 'container runtime network not ready',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    nodeInfo: {
      machineID: name,
      systemUUID: name,
      bootID: name,
      kernelVersion: os.release(),
      osImage: 'Debian GNU/Linux',
      containerRuntimeVersion: 'containerd://2.0.0',
      kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
  const res = await api.request('PATCH', `/api/v1/nodes/${name}/status`, { status }, 'application/merge-patch+json');
  expectOk(`status of node ${name}`, res);
}
