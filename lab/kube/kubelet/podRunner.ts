/**
 * The lab kubelet's side of API pods: the pods bound to its node get their status posted as a
 * kubelet would (podStatus.ts), and a CNI pod that starts runs its install container's one real
 * effect, the network configuration written into the host's /etc/cni/net.d, which makes the node's
 * network ready. Static pods are the PodSupervisor's business, not this one's.
 */
import { ApiError, type KubeObject, type KubeClient } from '../client';
import { readWorkloadRules } from './labRules';
import type { RuntimeNetwork } from './network';
import { cniConfigOf, isCniPod, labPodStatus, type LabPodSpec, podOutcome, statusSignature } from './podStatus';

/** Values an install container substitutes into the CNI configuration it writes (Calico's placeholders). */
function substitute(content: string, nodeName: string): string {
  return content
    .replace(/__KUBERNETES_NODE_NAME__/g, nodeName)
    .replace(/__CNI_MTU__/g, '1440')
    .replace(/__KUBECONFIG_FILEPATH__/g, '/etc/cni/net.d/calico-kubeconfig');
}

/** Runs (by the lab's rules) the API pods bound to one node. */
export class PodRunner {
  /** Pods whose install step ran in this kubelet's life (by uid): a CNI's install container runs once per pod. */
  private readonly installed = new Set<string>();

  constructor(
    private readonly nodeName: string,
    private readonly hostIP: string,
    private readonly rulesFile: string | undefined,
    private readonly network: RuntimeNetwork,
    private readonly log: (line: string) => void,
  ) {}

  /** One pass over the node's pods. */
  async sync(client: KubeClient): Promise<void> {
    const rules = readWorkloadRules(this.rulesFile);
    const list = await client.get<{ items: KubeObject[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.nodeName}`)}`);
    for (const pod of list.items) {
      if (pod.metadata?.deletionTimestamp) continue;
      const outcome = podOutcome(pod, rules, this.network.state().ready);
      // A crash-looping pod's install container runs again when it next starts.
      if (outcome === 'crash-loop') this.installed.delete(String(pod.metadata?.uid));
      if (outcome === 'running' || outcome === 'running-unready') await this.runInstallStep(client, pod);
      const status = labPodStatus(pod, outcome, this.hostIP, new Date());
      if (statusSignature(pod.status) === statusSignature(status)) continue;
      try {
        await client.put(`/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}/status`, { ...pod, status });
        this.log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: ${outcome}`);
      } catch (err) {
        // Changed or deleted meanwhile: the next pass reads it again. Any other refusal is this pod's alone.
        if (!(err instanceof ApiError && (err.status === 409 || err.status === 404)))
          this.log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: status update failed: ${(err as Error).message}`);
      }
    }
  }

  /** A CNI pod's install container: writes the network configuration the first time the pod starts. */
  private async runInstallStep(client: KubeClient, pod: KubeObject): Promise<void> {
    const spec = pod.spec as unknown as LabPodSpec;
    const uid = String(pod.metadata?.uid);
    if (!isCniPod(spec) || this.installed.has(uid)) return;
    // Started before this kubelet did, with the network already configured: its install container ran then.
    if ((pod.status as { phase?: string } | undefined)?.phase === 'Running' && this.network.state().ready) {
      this.installed.add(uid);
      return;
    }
    // A read that fails (the API busy with an etcd election during a join) throws before the pod counts as
    // installed: the next pass runs the install again, as a real install container restarts until it succeeds.
    const config = await cniConfigOf(spec, async (name, key) => {
      const map = await client.find(`/api/v1/namespaces/${pod.metadata?.namespace}/configmaps/${name}`);
      return ((map?.data ?? {}) as Record<string, string>)[key];
    });
    if (!config) return;
    this.network.install(config.name, substitute(config.content, this.nodeName));
    this.installed.add(uid);
    this.log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: wrote network configuration ${config.name}`);
  }
}
