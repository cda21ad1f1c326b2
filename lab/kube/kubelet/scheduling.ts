/**
 * LAB EMULATION of the scheduler's and the DaemonSet controller's node filters, for the lab
 * controller: node selectors, taints and tolerations, and the Ready condition. Enough to keep a
 * Deployment's pods Pending on NotReady or tainted nodes, as kube-scheduler does.
 */
import type { KubeObject } from '../client';

/** A Node taint. */
export interface Taint {
  key?: string;
  value?: string;
  effect?: string;
}

/** A pod toleration. */
export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/** The parts of a pod spec the filters read. */
export interface PodPlacement {
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  hostNetwork?: boolean;
}

/** A Node's taints. */
export function taintsOf(node: KubeObject): Taint[] {
  return ((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []) as Taint[];
}

/** A Node's Ready condition status ("True", "False", "Unknown"), or undefined before its kubelet posted one. */
export function readyStatus(node: KubeObject): string | undefined {
  const conditions = (node.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.find((c) => c.type === 'Ready')?.status;
}

/** Whether one toleration tolerates one taint (the core/v1 rules: Exists, Equal, an empty key with Exists). */
function tolerated(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

/** The NoSchedule/NoExecute taints of a node that none of the tolerations tolerate. */
export function untolerated(tolerations: Toleration[], taints: Taint[]): Taint[] {
  return taints.filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerations.some((tol) => tolerated(tol, t)));
}

function selectorMatches(node: KubeObject, selector: Record<string, string> | undefined): boolean {
  const labels = node.metadata?.labels ?? {};
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/**
 * The tolerations the DaemonSet controller adds to every pod it makes (so a node's conditions never keep
 * a daemon off it); hostNetwork pods also tolerate an unavailable network.
 */
function daemonTolerations(spec: PodPlacement): Toleration[] {
  const exists = (key: string, effect: string): Toleration => ({ key, operator: 'Exists', effect });
  return [
    exists('node.kubernetes.io/not-ready', 'NoExecute'),
    exists('node.kubernetes.io/unreachable', 'NoExecute'),
    exists('node.kubernetes.io/disk-pressure', 'NoSchedule'),
    exists('node.kubernetes.io/memory-pressure', 'NoSchedule'),
    exists('node.kubernetes.io/pid-pressure', 'NoSchedule'),
    exists('node.kubernetes.io/unschedulable', 'NoSchedule'),
    ...(spec.hostNetwork ? [exists('node.kubernetes.io/network-unavailable', 'NoSchedule')] : []),
  ];
}

/** Whether a DaemonSet with this pod spec wants a pod on the node. */
export function daemonWantsNode(node: KubeObject, spec: PodPlacement): boolean {
  return selectorMatches(node, spec.nodeSelector) && untolerated([...(spec.tolerations ?? []), ...daemonTolerations(spec)], taintsOf(node)).length === 0;
}

/** Why the scheduler would refuse the node for this pod spec, or undefined when it fits. */
export function unfitReason(node: KubeObject, spec: PodPlacement): string | undefined {
  if ((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable) return 'node(s) were unschedulable';
  if (!selectorMatches(node, spec.nodeSelector)) return "node(s) didn't match Pod's node affinity/selector";
  const refused = untolerated(spec.tolerations ?? [], taintsOf(node));
  if (refused.length > 0) return `node(s) had untolerated taint {${refused[0].key}: ${refused[0].value ?? ''}}`;
  return undefined;
}

/**
 * The scheduler's verdict for a pod: the fitting node with the fewest pods, or the message a Pending
 * pod's PodScheduled condition carries ("0/3 nodes are available: ...").
 */
export function schedule(nodes: KubeObject[], spec: PodPlacement, podsPerNode: Map<string, number>): { node: string } | { message: string } {
  const reasons = new Map<string, number>();
  let best: { name: string; load: number } | undefined;
  for (const node of nodes) {
    const name = node.metadata?.name as string;
    const reason = unfitReason(node, spec);
    if (reason) {
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      continue;
    }
    const load = podsPerNode.get(name) ?? 0;
    if (!best || load < best.load || (load === best.load && name < best.name)) best = { name, load };
  }
  if (best) return { node: best.name };
  const why = [...reasons.entries()].map(([reason, n]) => `${n} ${reason}`).sort();
  return {
    message: `0/${nodes.length} nodes are available: ${why.join(', ')}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`,
  };
}
