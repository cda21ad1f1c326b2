/**
 * Nodes as kubeha reports them: Ready from the Ready condition (what the kubelet posts), control
 * plane from the role label kubeadm sets.
 */
import type { NodeStatus } from '../types';

interface NodeObject {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    nodeInfo?: { kubeletVersion?: string };
  };
}

/** kubeadm labels control-plane nodes with this (the older `master` label went away in 1.25). */
const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

/** The {@link NodeStatus} of a Node object as read from the API. */
export function nodeStatus(object: unknown): NodeStatus {
  const node = object as NodeObject;
  const readyCondition = node.status?.conditions?.find((c) => c.type === 'Ready');
  const ready = readyCondition?.status === 'True';
  const status: NodeStatus = {
    name: node.metadata?.name ?? '',
    ready,
    controlPlane: node.metadata?.labels?.[CONTROL_PLANE_LABEL] !== undefined,
  };
  const kubeletVersion = node.status?.nodeInfo?.kubeletVersion;
  if (kubeletVersion) status.kubeletVersion = kubeletVersion;
  // The kubelet's reason is only "KubeletNotReady"; the runtime's own reason is inside the message.
  const runtimeReason = /reason:(\w+)/.exec(readyCondition?.message ?? '')?.[1];
  if (!ready) status.reason = readyCondition ? (runtimeReason ?? readyCondition.reason ?? `Ready=${readyCondition.status}`) : 'NoReadyCondition';
  return status;
}
