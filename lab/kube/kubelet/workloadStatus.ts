/**
 * LAB EMULATION of the status the workload controllers of kube-controller-manager write, computed
 * from the workload's pods as they really stand (their kubelets' reports), so a rollout finishes
 * only when its pods run and pass readiness, and a Deployment that stops progressing reports
 * ProgressDeadlineExceeded as the deployment controller does.
 */
import type { KubeObject } from '../client';

/** Whether a pod is Ready (its kubelet says so). */
export function podReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The pods of a workload, split by whether they carry its current template. */
export interface OwnedPods {
  current: KubeObject[];
  old: KubeObject[];
}

const ready = (pods: KubeObject[]): number => pods.filter(podReady).length;

/** A DaemonSet's status. */
export function daemonSetStatus(generation: number, desired: number, pods: OwnedPods): Record<string, unknown> {
  const all = [...pods.current, ...pods.old];
  const available = ready(all);
  return {
    observedGeneration: generation,
    desiredNumberScheduled: desired,
    currentNumberScheduled: all.length,
    updatedNumberScheduled: pods.current.length,
    numberReady: available,
    numberAvailable: available,
    ...(desired - available > 0 ? { numberUnavailable: desired - available } : {}),
    numberMisscheduled: 0,
  };
}

/** A StatefulSet's status. */
export function statefulSetStatus(generation: number, replicas: number, revision: string, pods: OwnedPods): Record<string, unknown> {
  const all = [...pods.current, ...pods.old];
  return {
    observedGeneration: generation,
    replicas: all.length,
    readyReplicas: ready(all),
    availableReplicas: ready(all),
    currentReplicas: pods.current.length,
    updatedReplicas: pods.current.length,
    currentRevision: pods.old.length ? `${revision}-previous` : revision,
    updateRevision: revision,
  };
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

/**
 * A Deployment's status. `previous` is its current status: the Progressing condition's lastUpdateTime
 * marks the last progress, and past `progressDeadlineSeconds` without any the rollout has failed.
 */
export function deploymentStatus(deployment: KubeObject, replicaSetName: string, pods: OwnedPods, now: Date): Record<string, unknown> {
  const spec = (deployment.spec ?? {}) as { replicas?: number; progressDeadlineSeconds?: number };
  const previous = (deployment.status ?? {}) as { updatedReplicas?: number; readyReplicas?: number; conditions?: Condition[]; observedGeneration?: number };
  const generation = deployment.metadata?.generation ?? 1;
  const desired = spec.replicas ?? 1;
  const updated = pods.current.length;
  const readyCurrent = ready(pods.current);
  const readyAll = ready([...pods.current, ...pods.old]);
  const complete = updated >= desired && readyCurrent >= desired && pods.old.length === 0;
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const before = previous.conditions?.find((c) => c.type === 'Progressing');
  // The API omits zero counts (omitempty): a missing one is 0.
  const progressed = previous.observedGeneration !== generation || (previous.updatedReplicas ?? 0) !== updated || (previous.readyReplicas ?? 0) !== readyAll;
  const lastProgress = progressed || !before?.lastUpdateTime ? stamp : before.lastUpdateTime;
  const deadline = (spec.progressDeadlineSeconds ?? 600) * 1000;
  let progressing: Condition;
  if (complete) {
    progressing = {
      type: 'Progressing',
      status: 'True',
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "${replicaSetName}" has successfully progressed.`,
      lastUpdateTime: lastProgress,
    };
  } else if (before?.reason === 'ProgressDeadlineExceeded' && !progressed) {
    progressing = before;
  } else if (now.getTime() - Date.parse(lastProgress) > deadline) {
    progressing = {
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "${replicaSetName}" has timed out progressing.`,
      lastUpdateTime: stamp,
    };
  } else {
    progressing = {
      type: 'Progressing',
      status: 'True',
      reason: 'ReplicaSetUpdated',
      message: `ReplicaSet "${replicaSetName}" is progressing.`,
      lastUpdateTime: lastProgress,
    };
  }
  const availableOk = readyAll >= desired;
  const available: Condition = availableOk
    ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
    : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' };
  const unavailable = Math.max(desired - readyAll, 0);
  return {
    observedGeneration: generation,
    replicas: pods.current.length + pods.old.length,
    updatedReplicas: updated,
    readyReplicas: readyAll,
    availableReplicas: readyAll,
    ...(unavailable > 0 ? { unavailableReplicas: unavailable } : {}),
    conditions: [available, progressing].map((c) => {
      const was = previous.conditions?.find((p) => p.type === c.type);
      return {
        ...c,
        lastUpdateTime: c.lastUpdateTime ?? stamp,
        lastTransitionTime: was && was.status === c.status ? (was.lastTransitionTime ?? stamp) : stamp,
      };
    }),
  };
}

/** What of a workload status matters for deciding whether to write it again (no timestamps). */
export function workloadSignature(status: unknown): string {
  const s = { ...((status ?? {}) as Record<string, unknown>) };
  const conditions = ((s.conditions ?? []) as Condition[]).map((c) => [c.type, c.status, c.reason, c.message]);
  delete s.conditions;
  // Zero counts are omitted when the API stores the status: compare without them.
  const fields = Object.entries(s).filter(([, v]) => v !== 0 && v !== undefined);
  return JSON.stringify([fields.sort(([a], [b]) => a.localeCompare(b)), conditions]);
}
