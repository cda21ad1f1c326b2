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
 * - node lifecycle: taints NotReady Nodes not-ready and untaints Ready ones; marks a Node whose kubelet
 *   stopped posting status for 40 s Ready=Unknown with the unreachable taint, and its pods not Ready;
 * - workloads and scheduling (workloads.ts): pods for DaemonSets, Deployments and StatefulSets, placed
 *   as the scheduler would, and the workloads' status from what their pods' kubelets report;
 * - endpoints (endpoints.ts): each selector Service's Endpoints from the pods it selects;
 * - service account tokens (serviceAccountTokens.ts): token Secrets filled for their accounts.
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
import { syncEndpoints } from './endpoints';
import { taintsOf, type Taint } from './scheduling';
import { fillServiceAccountTokens } from './serviceAccountTokens';
import { ignoreGone, WorkloadController } from './workloads';

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kubeha-lab-controller';
const LEASE_SECONDS = 15;
/** kube-controller-manager's --node-monitor-grace-period. */
const NODE_GRACE_MS = 40_000;

function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The lab controller of one control-plane host. */
export class LabController {
  private readonly workloads: WorkloadController;

  constructor(
    private readonly nodeName: string,
    private readonly address: string | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.workloads = new WorkloadController(log);
  }

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
        await client.create('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'kubeha-lab-controller', namespace: 'kube-system' },
          spec: { ...spec, acquireTime: microTime(now) },
        });
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
      await client.put(LEASE, {
        ...lease,
        spec: { ...current, ...spec, ...(current.holderIdentity !== this.nodeName ? { acquireTime: microTime(now) } : {}) },
      });
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
      await this.workloads.run(client);
      for (const endpoints of await syncEndpoints(client)) this.log(`lab controller: wrote Endpoints ${endpoints}`);
      for (const secret of await fillServiceAccountTokens(client)) this.log(`lab controller: filled the service account token Secret ${secret}`);
    } catch (err) {
      if (!(err instanceof Error && /ECONNREFUSED|connection refused|socket hang up|ECONNRESET/.test(err.message)))
        this.log(`lab controller: ${(err as Error).message}`);
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
        const conditions = [
          {
            type: 'Approved',
            status: 'True',
            reason: 'AutoApproved',
            message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
            lastUpdateTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          },
        ];
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
    const NODE_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];
    for (const node of nodes) {
      const name = node.metadata?.name as string;
      const conditions = (node.status as { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[] } | undefined)?.conditions ?? [];
      const ready = conditions.find((c) => c.type === 'Ready');
      const taints = taintsOf(node);
      const stale = ready?.lastHeartbeatTime !== undefined && Date.now() - Date.parse(ready.lastHeartbeatTime) > NODE_GRACE_MS;
      // resourceVersion makes each taint change a compare-and-swap: kubeadm marks control planes meanwhile.
      const setTaints = (wanted: Taint[]) =>
        client.mergePatch(`/api/v1/nodes/${name}`, {
          metadata: { resourceVersion: node.metadata?.resourceVersion },
          spec: { taints: [...taints.filter((t) => !NODE_TAINTS.includes(t.key ?? '')), ...wanted] },
        });
      const has = (key: string) => taints.some((t) => t.key === key);
      if (stale && ready?.status !== 'Unknown') {
        const unknown = conditions.map((c) => ({ ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }));
        await client.strategicPatch(`/api/v1/nodes/${name}/status`, { status: { conditions: unknown } });
        await setTaints([{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }]).catch(ignoreGone);
        await this.markPodsNotReady(client, name);
        this.log(`lab controller: node ${name} stopped posting status: Ready=Unknown`);
      } else if (!stale && ready?.status === 'False' && (!has('node.kubernetes.io/not-ready') || has('node.kubernetes.io/unreachable'))) {
        await setTaints([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]).catch(ignoreGone);
      } else if (!stale && ready?.status === 'True' && NODE_TAINTS.some(has)) {
        await setTaints([]).catch(ignoreGone);
      }
    }
  }

  /** The node lifecycle controller's MarkPodsNotReady: pods on a node nobody hears from are not Ready. */
  private async markPodsNotReady(client: KubeClient, nodeName: string): Promise<void> {
    const pods = (await client.get<{ items: KubeObject[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`)).items;
    for (const pod of pods) {
      const status = (pod.status ?? {}) as { conditions?: { type: string; status: string }[] };
      if (!status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const conditions = status.conditions.map((c) =>
        c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'NodeNotReady' } : c,
      );
      await client
        .put(`/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}/status`, { ...pod, status: { ...status, conditions } })
        .catch(ignoreGone);
    }
  }
}
