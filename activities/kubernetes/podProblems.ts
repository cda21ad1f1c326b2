/**
 * Why a workload's pods are not ready, read from the pods as `kubectl get pods` shows them: a
 * container crash-looping (with its restart count), a pod the scheduler could not place (with its
 * reason), a pod waiting for the node's network (no CNI on that node). Rollout waits report these,
 * so a failed rollout names the pod and the cause instead of only counts.
 */
import type { KubeClient } from './client';

/** What kind of trouble a pod is in. */
export type PodProblemKind = 'crash-loop' | 'unschedulable' | 'no-network' | 'waiting';

/** One pod that is not ready, and why. */
export interface PodProblem {
  pod: string;
  node?: string;
  kind: PodProblemKind;
  /** kubectl's STATUS column, e.g. "Init:CrashLoopBackOff", "Pending". */
  status: string;
  /** The container at fault, when one is. */
  container?: string;
  restarts?: number;
  /** The reason in Kubernetes' words. */
  message?: string;
}

interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
}

interface PodObject {
  metadata?: { name?: string; namespace?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

/** The problem of one pod, or undefined when it is Ready. */
export function podProblem(object: unknown): PodProblem | undefined {
  const pod = object as PodObject;
  const status = pod.status ?? {};
  if (status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
  const base = { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}) };
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return { ...base, kind: 'unschedulable', status: 'Pending', message: scheduled.message };
  for (const [prefix, list] of [
    ['Init:', status.initContainerStatuses],
    ['', status.containerStatuses],
  ] as const) {
    for (const c of list ?? []) {
      const waiting = c.state?.waiting;
      if (waiting?.reason === 'CrashLoopBackOff' || waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull') {
        return {
          ...base,
          kind: 'crash-loop',
          status: `${prefix}${waiting.reason}`,
          container: c.name,
          restarts: c.restartCount ?? 0,
          message: waiting.message,
        };
      }
      if (waiting?.message && /NetworkPluginNotReady|network is not ready/.test(waiting.message)) {
        return { ...base, kind: 'no-network', status: waiting.reason ?? 'ContainerCreating', container: c.name, message: waiting.message };
      }
    }
  }
  return { ...base, kind: 'waiting', status: status.phase ?? 'Unknown' };
}

/** The problems of the pods a selector picks (at most `limit`, the worst kinds first). */
export async function podProblems(client: KubeClient, namespace: string, matchLabels: Record<string, string>, limit = 3): Promise<PodProblem[]> {
  const selector = Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (!selector) return [];
  const list = await client.find<{ items?: unknown[] }>(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(selector)}`,
  );
  return worstFirst((list?.items ?? []).map(podProblem).filter((p): p is PodProblem => p !== undefined)).slice(0, limit);
}

const WORST_FIRST: PodProblemKind[] = ['crash-loop', 'unschedulable', 'no-network', 'waiting'];

/** Problems sorted the worst kind first (then by pod name). */
export function worstFirst(problems: PodProblem[]): PodProblem[] {
  return [...problems].sort((a, b) => WORST_FIRST.indexOf(a.kind) - WORST_FIRST.indexOf(b.kind) || a.pod.localeCompare(b.pod));
}

/** `pod kube-system/calico-node-x on cp-1: Init:CrashLoopBackOff (install-cni restarted 3 times)` */
export function describePodProblem(p: PodProblem): string {
  const where = `pod ${p.pod}${p.node ? ` on ${p.node}` : ''}`;
  switch (p.kind) {
    case 'crash-loop':
      return `${where}: ${p.status} (${p.container} restarted ${p.restarts} times)`;
    case 'unschedulable':
      return `${where}: Pending, ${p.message ?? 'not scheduled'}`;
    case 'no-network':
      return `${where}: ${p.status}, the node's container network is not ready (no CNI configuration there)`;
    case 'waiting':
      return `${where}: ${p.status}, not ready`;
  }
}

/** The operator's next move for the worst problem of a failed rollout. */
export function podProblemHint(problems: PodProblem[]): string | undefined {
  const worst = problems[0];
  if (!worst) return undefined;
  const [ns, name] = worst.pod.split('/');
  switch (worst.kind) {
    case 'crash-loop':
      return `a container keeps failing: \`kubectl -n ${ns} logs ${name} -c ${worst.container} --previous\` shows why (for a CNI: its pod CIDR, backend and host paths); fix the manifest or the node, then run the step again`;
    case 'unschedulable':
      return `no node can take the pod: ${worst.message ?? ''} (NotReady nodes carry the not-ready taint until their CNI runs); fix the nodes or the tolerations, then run the step again`.replace(
        ':  (',
        ': (',
      );
    case 'no-network':
      return `the CNI does not run on ${worst.node ?? 'the node'}: check its DaemonSet's pod there (\`kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=${worst.node ?? 'NODE'}\`), then run the step again`;
    case 'waiting':
      return undefined;
  }
}
