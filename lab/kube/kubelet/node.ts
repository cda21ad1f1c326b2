/**
 * The kubelet's side of the Node API: once /etc/kubernetes/kubelet.conf exists and the API
 * answers, it registers its Node (with its own credentials, system:node:<name>, as NodeRestriction
 * requires) and keeps the Ready condition and its Lease in kube-node-lease fresh.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { ApiError, KubeClient } from '../client';
import { KUBE, KUBERNETES_VERSION } from '../env';
import { readKubeconfig } from '../kubeconfig';
import { NETWORK_NOT_READY_MESSAGE, type RuntimeNetwork } from './network';

/** The flags kubeadm wrote for the kubelet (/var/lib/kubelet/kubeadm-flags.env). */
export function kubeadmFlags(): Record<string, string> {
  const file = `${KUBE.kubeletDir}/kubeadm-flags.env`;
  if (!existsSync(file)) return {};
  const match = /KUBELET_KUBEADM_ARGS="([^"]*)"/.exec(readFileSync(file, 'utf8'));
  const flags: Record<string, string> = {};
  for (const word of (match?.[1] ?? '').split(/\s+/)) {
    const m = /^--([^=]+)=(.*)$/.exec(word);
    if (m) flags[m[1]] = m[2];
  }
  return flags;
}

/** A client with the kubelet's own credentials (kubelet.conf), once it has them. */
export function kubeletClient(): KubeClient | undefined {
  if (!existsSync(KUBE.kubeletConf)) return undefined;
  try {
    return new KubeClient(readKubeconfig(KUBE.kubeletConf), 5000);
  } catch {
    return undefined;
  }
}

/** MicroTime as the API wants it for Leases. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Registers the Node and renews its status. */
export class NodeAgent {
  private registered = false;

  /** Whether the Node is known to be registered (until then the kubelet tries every second). */
  get isRegistered(): boolean {
    return this.registered;
  }

  constructor(
    private readonly nodeName: string,
    private readonly address: string | undefined,
    private readonly network: RuntimeNetwork,
    private readonly log: (line: string) => void,
  ) {}

  /** Whether the runtime's network was ready at the last status posted (a change posts at once). */
  private postedNetworkReady: boolean | undefined;

  /** Whether the Node's Ready condition would change now (the runtime's network came or went). */
  get readinessChanged(): boolean {
    return this.registered && this.postedNetworkReady !== this.network.state().ready;
  }

  private networkReady = false;

  private conditions(now: string): Record<string, unknown>[] {
    const condition = (type: string, status: string, reason: string, message: string): Record<string, unknown> => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
    });
    return [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      this.networkReady
        ? condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
        : condition('Ready', 'False', 'KubeletNotReady', NETWORK_NOT_READY_MESSAGE),
    ];
  }

  private status(now: string): Record<string, unknown> {
    const capacity = { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110', 'ephemeral-storage': '100Gi' };
    return {
      addresses: [...(this.address ? [{ type: 'InternalIP', address: this.address }] : []), { type: 'Hostname', address: this.nodeName }],
      capacity,
      allocatable: capacity,
      conditions: this.conditions(now),
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: 'containerd://lab',
        kernelVersion: os.release(),
        kubeProxyVersion: '',
        kubeletVersion: KUBERNETES_VERSION,
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'kubeha lab',
        systemUUID: '',
      },
    };
  }

  private async register(client: KubeClient, now: string): Promise<void> {
    const labels = {
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': this.nodeName,
      'kubernetes.io/os': 'linux',
    };
    try {
      await client.create('/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: this.nodeName,
          labels,
          annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
        },
        spec: {},
        status: this.status(now),
      });
      this.log(`Successfully registered node ${this.nodeName}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
    }
    this.registered = true;
  }

  /** One heartbeat: register when needed, then post Ready and renew the Lease. Errors are logged, never thrown. */
  async heartbeat(): Promise<void> {
    const client = kubeletClient();
    if (!client) return;
    this.networkReady = this.network.state().ready;
    const nowDate = new Date();
    const now = nowDate.toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      if (!this.registered) await this.register(client, now);
      try {
        await client.strategicPatch(`/api/v1/nodes/${this.nodeName}/status`, { status: this.status(now) });
      } catch (err) {
        // The Node was deleted (kubectl delete node): register it again, as a kubelet does.
        if (err instanceof ApiError && err.status === 404) {
          this.registered = false;
          await this.register(client, now);
        } else {
          throw err;
        }
      }
      this.postedNetworkReady = this.networkReady;
      await this.renewLease(client, nowDate);
    } catch (err) {
      this.log(`node status update failed: ${(err as Error).message}`);
    }
  }

  private async renewLease(client: KubeClient, now: Date): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.nodeName}`;
    const spec = { holderIdentity: this.nodeName, leaseDurationSeconds: 40, renewTime: microTime(now) };
    const current = await client.find(path);
    if (!current) {
      await client.createIfMissing('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.nodeName, namespace: 'kube-node-lease' },
        spec,
      });
      return;
    }
    await client.put(path, { ...current, spec: { ...(current.spec as object), ...spec } });
  }
}
