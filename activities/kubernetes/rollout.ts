/**
 * Rollout status of Deployments, DaemonSets and StatefulSets, by the rules of `kubectl rollout status`
 * (kubectl's polymorphichelpers/rollout_status.go): the controller has observed the current generation
 * and the updated / available / ready counts reached the desired number.
 */
import type { WorkloadRef } from '../types';

/** Where one workload's rollout stands. */
export interface RolloutState {
  done: boolean;
  /** Why it is not done, in kubectl's words, e.g. "1 of 3 updated replicas are available". */
  message: string;
  /** The rollout can no longer finish by waiting (Deployment past its progressDeadlineSeconds). */
  failed?: boolean;
  /** The counts the decision was made on. */
  counts: Record<string, number>;
}

interface WorkloadObject {
  metadata?: { generation?: number };
  spec?: {
    replicas?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: Record<string, unknown> & { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

function observed(object: WorkloadObject): boolean {
  const observedGeneration = object.status?.observedGeneration;
  return typeof observedGeneration === 'number' && observedGeneration >= (object.metadata?.generation ?? 0);
}

const NOT_OBSERVED = 'waiting for the controller to observe the current spec (status.observedGeneration < metadata.generation)';

function deploymentState(object: WorkloadObject): RolloutState {
  const status = object.status ?? {};
  const desired = object.spec?.replicas ?? 1;
  const counts = {
    desired,
    replicas: num(status.replicas),
    updated: num(status.updatedReplicas),
    ready: num(status.readyReplicas),
    available: num(status.availableReplicas),
  };
  if (!observed(object)) return { done: false, message: NOT_OBSERVED, counts };
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, failed: true, message: `exceeded its progress deadline: ${progressing.message ?? ''}`.trim(), counts };
  }
  if (counts.updated < desired) return { done: false, message: `${counts.updated} out of ${desired} new replicas have been updated`, counts };
  if (counts.replicas > counts.updated) {
    return { done: false, message: `${counts.replicas - counts.updated} old replicas are pending termination`, counts };
  }
  if (counts.available < counts.updated) return { done: false, message: `${counts.available} of ${counts.updated} updated replicas are available`, counts };
  if (counts.ready < desired) return { done: false, message: `${counts.ready} of ${desired} replicas are ready`, counts };
  return { done: true, message: 'rolled out', counts };
}

function daemonSetState(object: WorkloadObject): RolloutState {
  const status = object.status ?? {};
  const counts = {
    desired: num(status.desiredNumberScheduled),
    updated: num(status.updatedNumberScheduled),
    ready: num(status.numberReady),
    available: num(status.numberAvailable),
  };
  if (!observed(object)) return { done: false, message: NOT_OBSERVED, counts };
  // With OnDelete, pods update only when someone deletes them: wait for availability alone.
  const rolling = (object.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && counts.updated < counts.desired) {
    return { done: false, message: `${counts.updated} out of ${counts.desired} new pods have been updated`, counts };
  }
  if (counts.available < counts.desired) return { done: false, message: `${counts.available} of ${counts.desired} updated pods are available`, counts };
  if (counts.ready < counts.desired) return { done: false, message: `${counts.ready} of ${counts.desired} pods are ready`, counts };
  return { done: true, message: 'rolled out', counts };
}

function statefulSetState(object: WorkloadObject): RolloutState {
  const status = object.status ?? {};
  const desired = object.spec?.replicas ?? 1;
  const counts = { desired, ready: num(status.readyReplicas), updated: num(status.updatedReplicas), current: num(status.currentReplicas) };
  if (!observed(object)) return { done: false, message: NOT_OBSERVED, counts };
  if (counts.ready < desired) return { done: false, message: `waiting for ${desired - counts.ready} pods to be ready`, counts };
  const strategy = object.spec?.updateStrategy;
  if ((strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return { done: true, message: 'rolled out (OnDelete)', counts };
  const partition = strategy?.rollingUpdate?.partition ?? 0;
  if (partition > 0) {
    const target = desired - partition;
    if (counts.updated < target) {
      return { done: false, message: `waiting for partitioned roll out to finish: ${counts.updated} out of ${target} new pods have been updated`, counts };
    }
    return { done: true, message: 'partitioned roll out complete', counts };
  }
  if (status.updateRevision !== status.currentRevision) {
    return { done: false, message: `waiting for rolling update to complete ${counts.updated} pods at revision ${String(status.updateRevision)}`, counts };
  }
  return { done: true, message: 'rolled out', counts };
}

/** The rollout state of a workload object as read from the API. */
export function rolloutState(kind: WorkloadRef['kind'], object: unknown): RolloutState {
  const workload = object as WorkloadObject;
  switch (kind) {
    case 'Deployment':
      return deploymentState(workload);
    case 'DaemonSet':
      return daemonSetState(workload);
    case 'StatefulSet':
      return statefulSetState(workload);
  }
}

const RESOURCE: Record<WorkloadRef['kind'], string> = { Deployment: 'deployments', DaemonSet: 'daemonsets', StatefulSet: 'statefulsets' };

/** The API path of a workload. */
export function workloadPath(ref: WorkloadRef): string {
  return `/apis/apps/v1/namespaces/${encodeURIComponent(ref.namespace)}/${RESOURCE[ref.kind]}/${encodeURIComponent(ref.name)}`;
}

/** `Deployment kube-system/coredns` */
export function workloadLabel(ref: WorkloadRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}
