/**
 * LAB EMULATION of the kube-controller-manager controllers kubeadm's flows rely on. The lab runs
 * no controller manager (and no container runtime), so one control-plane kubelet at a time (the
 * holder of Lease kube-system/kubeha-lab-controller) does their work through its host's own API
 * server:
 * - token cleaner: deletes expired bootstrap token Secrets;
 * - bootstrap signer: keeps the JWS signatures of kube-public/cluster-info in line with the tokens;
 * - garbage collector (only for kubeadm-certs): deletes the uploaded certificates once their owner
 *   token is gone or expired;
 * - CSR approver and signer: approves and signs kubelet client CSRs (TLS bootstrap of workers);
 * - node lifecycle: removes the not-ready taint from Ready Nodes; marks a Node whose kubelet stopped
 *   posting status for 40 s Ready=Unknown with the unreachable taint;
 * - workload status: marks Deployments, DaemonSets and StatefulSets as rolled out (their pods
 *   cannot run here), so waits on rollouts behave as on a healthy cluster.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decodeTokenSecret, syncClusterInfoSignatures } from '../bootstrap';
import { ApiError, KubeClient, type KubeObject } from '../client';
import { readCertAndKey } from '../clusterPki';
import { KUBE } from '../env';
import { readKubeconfig } from '../kubeconfig';
import { signRequest } from '../pki';
import { uploadedCertsExpired } from '../uploadCerts';

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kubeha-lab-controller';
const LEASE_SECONDS = 15;
/** kube-controller-manager's --node-monitor-grace-period. */
const NODE_GRACE_MS = 40_000;

function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The lab controller of one control-plane host. */
export class LabController {
  constructor(
    private readonly nodeName: string,
    private readonly address: string | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** An admin client against this host's own API server (the load balancer may be down). */
  private client(): KubeClient | undefined {
    if (!existsSync(KUBE.adminConf) || !existsSync(path.join(KUBE.pki, 'ca.key')) || !this.address) return undefined;
    try {
      return new KubeClient(readKubeconfig(KUBE.adminConf), 5000).withServer(`https://${this.address}:6443`);
    } catch {
      return undefined;
    }
  }

  /** Takes or renews the controller Lease; true when this host holds it. */
  private async lead(client: KubeClient): Promise<boolean> {
    const now = new Date();
    const spec = { holderIdentity: this.nodeName, leaseDurationSeconds: LEASE_SECONDS, renewTime: microTime(now) };
    const lease = await client.find(LEASE);
    if (!lease) {
      try {
        await client.create('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kubeha-lab-controller', namespace: 'kube-system' }, spec: { ...spec, acquireTime: microTime(now) } });
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) return false;
        throw err;
      }
    }
    const current = (lease.spec ?? {}) as { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
    const expired = !current.renewTime || Date.parse(current.renewTime) + (current.leaseDurationSeconds ?? LEASE_SECONDS) * 1000 < now.getTime();
    if (current.holderIdentity !== this.nodeName && !expired) return false;
    try {
      await client.put(LEASE, { ...lease, spec: { ...current, ...spec, ...(current.holderIdentity !== this.nodeName ? { acquireTime: microTime(now) } : {}) } });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return false;
      throw err;
    }
  }

  /** One pass of every controller, when this host leads. Errors are logged, never thrown. */
  async run(): Promise<void> {
    const client = this.client();
    if (!client) return;
    try {
      if (!(await this.lead(client))) return;
      await this.cleanTokens(client);
      await syncClusterInfoSignatures(client);
      await this.collectUploadedCerts(client);
      await this.signCsrs(client);
      await this.nodeLifecycle(client);
      await this.rollOutWorkloads(client);
    } catch (err) {
      if (!(err instanceof Error && /ECONNREFUSED|connection refused|socket hang up|ECONNRESET/.test(err.message))) this.log(`lab controller: ${(err as Error).message}`);
    }
  }

  private async cleanTokens(client: KubeClient): Promise<void> {
    const list = await client.get<{ items: KubeObject[] }>('/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken');
    for (const secret of list.items) {
      const info = decodeTokenSecret(secret);
      if (info?.expiration && info.expiration.getTime() <= Date.now()) {
        await client.remove(`/api/v1/namespaces/kube-system/secrets/${secret.metadata?.name}`);
        this.log(`lab controller: deleted expired bootstrap token ${info.id}`);
      }
    }
  }

  private async collectUploadedCerts(client: KubeClient): Promise<void> {
    const secret = await client.find('/api/v1/namespaces/kube-system/secrets/kubeadm-certs');
    if (secret && (await uploadedCertsExpired(client, secret))) {
      await client.remove('/api/v1/namespaces/kube-system/secrets/kubeadm-certs');
      this.log('lab controller: deleted Secret kubeadm-certs (its owner token expired)');
    }
  }

  private async signCsrs(client: KubeClient): Promise<void> {
    const list = await client.get<{ items: KubeObject[] }>('/apis/certificates.k8s.io/v1/certificatesigningrequests');
    for (const csr of list.items) {
      const spec = (csr.spec ?? {}) as { request?: string; signerName?: string; usages?: string[] };
      const status = (csr.status ?? {}) as { conditions?: { type: string }[]; certificate?: string };
      if (spec.signerName !== 'kubernetes.io/kube-apiserver-client-kubelet' || status.certificate) continue;
      if (status.conditions?.some((c) => c.type === 'Denied' || c.type === 'Failed')) continue;
      const name = csr.metadata?.name as string;
      const base = `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`;
      let current = csr;
      if (!status.conditions?.some((c) => c.type === 'Approved')) {
        const conditions = [{ type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.', lastUpdateTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }];
        current = await client.put(`${base}/approval`, { ...csr, status: { ...status, conditions } });
      }
      const ca = await readCertAndKey(KUBE.pki, 'ca');
      const pem = await signRequest(ca, Buffer.from(spec.request ?? '', 'base64').toString('utf8'), { usages: ['client'], validityMs: 365 * 24 * 3600_000 });
      await client.put(`${base}/status`, { ...current, status: { ...(current.status as object), certificate: Buffer.from(pem).toString('base64') } });
      this.log(`lab controller: approved and signed CSR ${name}`);
    }
  }

  private async nodeLifecycle(client: KubeClient): Promise<void> {
    const nodes = (await client.get<{ items: KubeObject[] }>('/api/v1/nodes')).items;
    for (const node of nodes) {
      const name = node.metadata?.name as string;
      const conditions = ((node.status as { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[] } | undefined)?.conditions ?? []);
      const ready = conditions.find((c) => c.type === 'Ready');
      const taints = ((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []);
      const stale = ready?.lastHeartbeatTime !== undefined && Date.now() - Date.parse(ready.lastHeartbeatTime) > NODE_GRACE_MS;
      if (stale && ready?.status !== 'Unknown') {
        const unknown = conditions.map((c) => ({ ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }));
        await client.strategicPatch(`/api/v1/nodes/${name}/status`, { status: { conditions: unknown } });
        await client.mergePatch(`/api/v1/nodes/${name}`, { spec: { taints: [...taints.filter((t) => !t.key?.startsWith('node.kubernetes.io/')), { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] } });
        this.log(`lab controller: node ${name} stopped posting status: Ready=Unknown`);
      } else if (!stale && ready?.status === 'True' && taints.some((t) => t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable')) {
        await client.mergePatch(`/api/v1/nodes/${name}`, { spec: { taints: taints.filter((t) => t.key !== 'node.kubernetes.io/not-ready' && t.key !== 'node.kubernetes.io/unreachable') } });
      }
    }
  }

  private async rollOutWorkloads(client: KubeClient): Promise<void> {
    const nodes = (await client.get<{ items: KubeObject[] }>('/api/v1/nodes')).items;
    for (const kind of ['deployments', 'daemonsets', 'statefulsets'] as const) {
      const list = await client.get<{ items: KubeObject[] }>(`/apis/apps/v1/${kind}`);
      for (const item of list.items) {
        const wanted = rolledOutStatus(kind, item, nodes);
        const current = (item.status ?? {}) as Record<string, unknown>;
        if (Object.entries(wanted).every(([k, v]) => JSON.stringify(current[k]) === JSON.stringify(v))) continue;
        try {
          await client.put(`/apis/apps/v1/namespaces/${item.metadata?.namespace}/${kind}/${item.metadata?.name}/status`, { ...item, status: { ...current, ...wanted } });
        } catch (err) {
          if (!(err instanceof ApiError && (err.status === 409 || err.status === 404))) throw err;
        }
      }
    }
  }
}

type Taint = { key?: string; effect?: string; value?: string };
type Toleration = { key?: string; operator?: string; effect?: string; value?: string };

/** Whether a pod template tolerates every NoSchedule/NoExecute taint of a node. */
function tolerates(tolerations: Toleration[], taints: Taint[]): boolean {
  return taints
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every((t) =>
      tolerations.some((tol) => {
        const keyMatches = tol.operator === 'Exists' ? !tol.key || tol.key === t.key : tol.key === t.key && (tol.value ?? '') === (t.value ?? '');
        return keyMatches && (!tol.effect || tol.effect === t.effect);
      }),
    );
}

/** The status a controller reports once every replica is updated and ready. */
export function rolledOutStatus(kind: 'deployments' | 'daemonsets' | 'statefulsets', item: KubeObject, nodes: KubeObject[]): Record<string, unknown> {
  const generation = item.metadata?.generation ?? 1;
  const spec = (item.spec ?? {}) as { replicas?: number; template?: { spec?: { nodeSelector?: Record<string, string>; tolerations?: Toleration[] } } };
  if (kind === 'daemonsets') {
    const template = spec.template?.spec ?? {};
    const desired = nodes.filter((n) => {
      const labels = n.metadata?.labels ?? {};
      const selector = template.nodeSelector ?? {};
      const taints = ((n.spec as { taints?: Taint[] } | undefined)?.taints ?? []) as Taint[];
      return Object.entries(selector).every(([k, v]) => labels[k] === v) && tolerates(template.tolerations ?? [], taints);
    }).length;
    return { observedGeneration: generation, desiredNumberScheduled: desired, currentNumberScheduled: desired, updatedNumberScheduled: desired, numberReady: desired, numberAvailable: desired, numberMisscheduled: 0 };
  }
  const replicas = spec.replicas ?? 1;
  if (kind === 'statefulsets') {
    return { observedGeneration: generation, replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas, currentRevision: `${item.metadata?.name}-lab`, updateRevision: `${item.metadata?.name}-lab` };
  }
  return {
    observedGeneration: generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${item.metadata?.name}-lab" has successfully progressed.` },
    ],
  };
}
