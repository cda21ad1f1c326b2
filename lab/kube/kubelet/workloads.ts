/**
 * LAB EMULATION of kube-controller-manager's workload controllers and kube-scheduler, run by the lab
 * controller's leader: DaemonSets get one pod per eligible node, Deployments and StatefulSets get
 * their replicas placed on fitting nodes (or left Pending with the scheduler's reason), pods of a
 * workload that is gone are collected, every namespace gets its `default` ServiceAccount, and each
 * workload's status is computed from its pods as their kubelets report them (workloadStatus.ts).
 * Simplified: a Deployment owns its pods directly (no ReplicaSet objects); template changes replace
 * pods (a Deployment's old pods go once the new ones are ready).
 */
import { createHash } from 'node:crypto';
import { ApiError, type KubeClient, type KubeObject } from '../client';
import { daemonWantsNode, type PodPlacement, schedule } from './scheduling';
import { daemonSetStatus, deploymentStatus, type OwnedPods, podReady, statefulSetStatus, workloadSignature } from './workloadStatus';

type Kind = 'DaemonSet' | 'Deployment' | 'StatefulSet';
const PLURAL: Record<Kind, string> = { DaemonSet: 'daemonsets', Deployment: 'deployments', StatefulSet: 'statefulsets' };
/** The label that ties a pod to its workload's template (each controller uses its own name for it). */
const TEMPLATE_LABEL: Record<Kind, string> = {
  DaemonSet: 'controller-revision-hash',
  Deployment: 'pod-template-hash',
  StatefulSet: 'controller-revision-hash',
};

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: PodPlacement & Record<string, unknown>;
}

function shortHash(text: string, length = 10): string {
  const digest = createHash('sha256').update(text).digest();
  // Kubernetes' safe alphabet for generated names (no vowels, no 0/1/3).
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[digest[i] % alphabet.length];
  return out;
}

/** Swallows the API's 404 and 409: the object went or changed meanwhile, and the next pass reads it again. */
export const ignoreGone = (err: unknown): void => {
  if (!(err instanceof ApiError && (err.status === 404 || err.status === 409))) throw err;
};

/** Runs the workload controllers over one cluster. */
export class WorkloadController {
  constructor(private readonly log: (line: string) => void) {}

  async run(client: KubeClient): Promise<void> {
    await this.defaultServiceAccounts(client);
    const nodes = (await client.get<{ items: KubeObject[] }>('/api/v1/nodes')).items;
    const pods = (await client.get<{ items: KubeObject[] }>('/api/v1/pods')).items;
    const owners = new Set<string>();
    for (const kind of ['DaemonSet', 'Deployment', 'StatefulSet'] as const) {
      const list = await client.get<{ items: KubeObject[] }>(`/apis/apps/v1/${PLURAL[kind]}`);
      for (const workload of list.items) {
        owners.add(String(workload.metadata?.uid));
        try {
          await this.reconcile(client, kind, workload, nodes, pods);
        } catch (err) {
          ignoreGone(err);
        }
      }
    }
    await this.collectOrphans(client, pods, owners);
  }

  /** The serviceaccount controller: a `default` ServiceAccount in every namespace (pods need one to be admitted). */
  private async defaultServiceAccounts(client: KubeClient): Promise<void> {
    const namespaces = (await client.get<{ items: KubeObject[] }>('/api/v1/namespaces')).items;
    const accounts = (await client.get<{ items: KubeObject[] }>('/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault')).items;
    const have = new Set(accounts.map((a) => a.metadata?.namespace));
    for (const ns of namespaces) {
      const name = ns.metadata?.name as string;
      if (have.has(name) || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating') continue;
      try {
        await client.create(`/api/v1/namespaces/${name}/serviceaccounts`, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'default', namespace: name },
        });
      } catch (err) {
        ignoreGone(err);
      }
    }
  }

  private async reconcile(client: KubeClient, kind: Kind, workload: KubeObject, nodes: KubeObject[], allPods: KubeObject[]): Promise<void> {
    const uid = String(workload.metadata?.uid);
    const ns = workload.metadata?.namespace as string;
    const name = workload.metadata?.name as string;
    const template = ((workload.spec as { template?: Template } | undefined)?.template ?? {}) as Template;
    const revision = shortHash(JSON.stringify(template));
    const owned = allPods.filter(
      (p) => ((p.metadata?.ownerReferences ?? []) as { uid: string }[]).some((o) => o.uid === uid) && !p.metadata?.deletionTimestamp,
    );
    const isCurrent = (p: KubeObject): boolean => p.metadata?.labels?.[TEMPLATE_LABEL[kind]] === revision;
    const pods: OwnedPods = { current: owned.filter(isCurrent), old: owned.filter((p) => !isCurrent(p)) };
    const newPod = (podName: string, extraLabels: Record<string, string> = {}): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: ns,
        labels: { ...(template.metadata?.labels ?? {}), ...extraLabels, [TEMPLATE_LABEL[kind]]: revision },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind, name, uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...(template.spec ?? {}) },
    });
    const spec = (template.spec ?? {}) as PodPlacement;
    const generation = workload.metadata?.generation ?? 1;
    let status: Record<string, unknown>;

    if (kind === 'DaemonSet') {
      const eligible = nodes.filter((n) => daemonWantsNode(n, spec)).map((n) => n.metadata?.name as string);
      for (const pod of owned) {
        const node = (pod.spec as { nodeName?: string }).nodeName;
        if (!node || !eligible.includes(node) || !isCurrent(pod)) await this.deletePod(client, pod);
      }
      for (const node of eligible) {
        if (pods.current.some((p) => (p.spec as { nodeName?: string }).nodeName === node)) continue;
        const pod = newPod(`${name}-${shortHash(`${uid}/${node}/${revision}`, 5)}`, { 'pod-template-generation': String(generation) });
        await this.createPod(client, { ...pod, spec: { ...(pod.spec as object), nodeName: node } });
      }
      const onEligible = (list: KubeObject[]) => list.filter((p) => eligible.includes((p.spec as { nodeName?: string }).nodeName ?? ''));
      status = daemonSetStatus(generation, eligible.length, { current: onEligible(pods.current), old: [] });
    } else {
      const replicas = ((workload.spec as { replicas?: number } | undefined)?.replicas ?? 1) as number;
      const names = Array.from({ length: replicas }, (_, i) =>
        kind === 'StatefulSet' ? `${name}-${i}` : `${name}-${revision}-${shortHash(`${uid}/${revision}/${i}`, 5)}`,
      );
      // Old pods go once the new ones are ready (a StatefulSet replaces each pod in place).
      const newReady = pods.current.filter(podReady).length >= replicas;
      for (const pod of pods.old) if (kind === 'StatefulSet' || newReady) await this.deletePod(client, pod);
      for (const pod of pods.current) if (!names.includes(pod.metadata?.name as string)) await this.deletePod(client, pod);
      const podsPerNode = new Map<string, number>();
      for (const pod of allPods) {
        const node = (pod.spec as { nodeName?: string }).nodeName;
        if (node) podsPerNode.set(node, (podsPerNode.get(node) ?? 0) + 1);
      }
      for (const podName of names) {
        const existing = owned.find((p) => p.metadata?.name === podName);
        if (existing && !isCurrent(existing)) continue; // a StatefulSet pod being replaced: created again next pass
        const pod =
          existing ?? (await this.createPod(client, newPod(podName, kind === 'StatefulSet' ? { 'statefulset.kubernetes.io/pod-name': podName } : {})));
        if (pod && !(pod.spec as { nodeName?: string }).nodeName) await this.bind(client, pod, nodes, spec, podsPerNode);
      }
      status =
        kind === 'StatefulSet'
          ? statefulSetStatus(generation, replicas, `${name}-${revision}`, pods)
          : deploymentStatus(
              workload,
              `${name}-${revision}`,
              { current: pods.current.filter((p) => names.includes(p.metadata?.name as string)), old: pods.old },
              new Date(),
            );
    }
    if (workloadSignature(workload.status) === workloadSignature(status)) return;
    await client.put(`/apis/apps/v1/namespaces/${ns}/${PLURAL[kind]}/${name}/status`, {
      ...workload,
      status: { ...((workload.status ?? {}) as object), ...status },
    });
  }

  /** kube-scheduler: binds the pod to the fitting node with the fewest pods, or records why none fits. */
  private async bind(client: KubeClient, pod: KubeObject, nodes: KubeObject[], spec: PodPlacement, podsPerNode: Map<string, number>): Promise<void> {
    const ns = pod.metadata?.namespace as string;
    const name = pod.metadata?.name as string;
    const verdict = schedule(nodes, spec, podsPerNode);
    if ('node' in verdict) {
      await client.create(`/api/v1/namespaces/${ns}/pods/${name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace: ns },
        target: { apiVersion: 'v1', kind: 'Node', name: verdict.node },
      });
      podsPerNode.set(verdict.node, (podsPerNode.get(verdict.node) ?? 0) + 1);
      return;
    }
    const current = (pod.status as { conditions?: { type: string; message?: string }[] } | undefined)?.conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.message === verdict.message) return;
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: verdict.message,
      lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    await client.put(`/api/v1/namespaces/${ns}/pods/${name}/status`, { ...pod, status: { phase: 'Pending', conditions: [condition] } });
  }

  /** Creates the pod; returns it as the API stored it, or the one already there under its name. */
  private async createPod(client: KubeClient, pod: KubeObject): Promise<KubeObject | undefined> {
    const ns = pod.metadata?.namespace as string;
    try {
      const created = await client.create(`/api/v1/namespaces/${ns}/pods`, pod);
      this.log(`lab controller: created pod ${ns}/${pod.metadata?.name}`);
      return created;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return client.find(`/api/v1/namespaces/${ns}/pods/${pod.metadata?.name}`);
      ignoreGone(err);
      return undefined;
    }
  }

  private async deletePod(client: KubeClient, pod: KubeObject): Promise<void> {
    try {
      // The lab kubelet has no containers to stop: the pod goes at once.
      await client.remove(`/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}?gracePeriodSeconds=0`);
      this.log(`lab controller: deleted pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
    } catch (err) {
      ignoreGone(err);
    }
  }

  /** The garbage collector, for pods: a pod whose controlling workload is gone goes too. */
  private async collectOrphans(client: KubeClient, pods: KubeObject[], owners: Set<string>): Promise<void> {
    for (const pod of pods) {
      const owner = ((pod.metadata?.ownerReferences ?? []) as { uid: string; kind: string; controller?: boolean }[]).find((o) => o.controller);
      if (owner && owner.kind in PLURAL && !owners.has(owner.uid) && !pod.metadata?.deletionTimestamp) await this.deletePod(client, pod);
    }
  }
}
