/**
 * The Kubernetes activities: server-side apply of manifests, waits for rollouts and nodes, and the
 * API's readiness, all through a kubeconfig that the secret store holds by name.
 */
import { randomUUID } from 'node:crypto';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { SecretStore } from '../secrets/store';
import type { KubernetesActivities, NodeStatus, SecretName, WorkloadRef } from '../types';
import { cancellationSignal } from '../activityContext';
import { applyObjects } from './apply';
import { KubeClient } from './client';
import { KubeconfigCache } from './kubeconfig';
import { type FetchManifest, fetchWithTimeout, parseManifest, readManifest } from './manifest';
import { nodeStatus } from './nodes';
import { describePodProblem, type PodProblem, podProblemHint, podProblems, worstFirst } from './podProblems';
import { pollUntil } from './poll';
import { rolloutState, workloadLabel, workloadPath } from './rollout';

/** What the Kubernetes activities need. */
export interface KubernetesDependencies {
  /** Holds the kubeconfigs named in inputs (`kubeconfigSecret`). */
  secrets: SecretStore;
  /** Fetches `{ url }` manifest sources. Default: http(s) GET with a 30 s timeout. */
  fetchManifest?: FetchManifest;
  /** Pause between two checks of a wait. Default 2000 ms. */
  pollIntervalMs?: number;
  /** Timeout of each API request. Default 15000 ms. */
  requestTimeoutMs?: number;
  /** How long applyManifest waits for its CRDs to be Established and served. Default 60000 ms. */
  crdTimeoutMs?: number;
}

/** One workload a rollout wait still waits for. */
interface WaitingWorkload extends WorkloadRef {
  message: string;
  counts: Record<string, number>;
  /** Its pods that are not ready, and why (the worst first). */
  pods?: PodProblem[];
}

function describeWaiting(waiting: WaitingWorkload[]): string {
  return waiting
    .map((w) => {
      const counts = Object.entries(w.counts)
        .map(([name, value]) => `${name} ${value}`)
        .join(', ');
      const pods = w.pods?.length ? `; ${w.pods.map(describePodProblem).join('; ')}` : '';
      return `${workloadLabel(w)}: ${w.message}${counts ? ` (${counts})` : ''}${pods}`;
    })
    .join('; ');
}

/** Builds the Kubernetes activities. */
export function createKubernetesActivities(deps: KubernetesDependencies): KubernetesActivities {
  const kubeconfigs = new KubeconfigCache(deps.secrets);
  const fetchManifest = deps.fetchManifest ?? fetchWithTimeout();
  const pollIntervalMs = deps.pollIntervalMs ?? 2000;
  const requestTimeoutMs = deps.requestTimeoutMs ?? 15_000;
  const crdTimeoutMs = deps.crdTimeoutMs ?? 60_000;

  // A client per call: its discovery cache then never outlives one activity (CRDs come and go).
  /** A client of the kubeconfig's server; `freshConnections` for probes of what a load balancer serves now. */
  const clientFor = async (secret: SecretName, freshConnections = false) => {
    const target = await kubeconfigs.load(secret);
    const signal = cancellationSignal();
    return { client: new KubeClient(target, { requestTimeoutMs, signal, freshConnections }), signal };
  };

  return {
    async applyManifest(input) {
      const { text, origin } = await readManifest(input.source, fetchManifest);
      // Parse and check everything before touching the cluster: a bad document applies nothing.
      const objects = parseManifest(text, origin);
      const { client, signal } = await clientFor(input.kubeconfigSecret);
      return applyObjects(client, objects, {
        fieldManager: input.fieldManager ?? 'kubeha',
        dryRun: input.dryRun ?? false,
        crdTimeoutMs,
        pollIntervalMs,
        signal,
      });
    },

    async waitRollout(input) {
      const { client, signal } = await clientFor(input.kubeconfigSecret);
      await pollUntil<void, WaitingWorkload[]>({
        timeoutMs: input.timeoutSeconds * 1000,
        intervalMs: pollIntervalMs,
        signal,
        check: async () => {
          const waiting: WaitingWorkload[] = [];
          for (const ref of input.workloads) {
            let object: unknown;
            try {
              object = await client.find(workloadPath(ref));
            } catch (err) {
              throw client.failure(err, `read ${workloadLabel(ref)}`);
            }
            if (object === undefined) {
              waiting.push({ ...ref, message: 'not found', counts: {} });
              continue;
            }
            const state = rolloutState(ref.kind, object);
            if (state.failed) {
              throw kubehaFailure({
                type: ErrorType.DeadlineExceeded,
                message: `${workloadLabel(ref)} ${state.message}`,
                retryable: false,
                hint: 'kubectl describe it and its pods (image pulls, scheduling, crashing containers); fix, then run the step again',
                details: { workload: ref, counts: state.counts },
              });
            }
            if (!state.done) {
              // Why the pods are not ready, so a failed rollout names the pod and the cause, not only counts.
              const selector = (object as { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec?.selector?.matchLabels ?? {};
              let pods: PodProblem[] = [];
              try {
                pods = await podProblems(client, ref.namespace, selector);
              } catch (err) {
                throw client.failure(err, `list the pods of ${workloadLabel(ref)}`);
              }
              waiting.push({ ...ref, message: state.message, counts: state.counts, ...(pods.length ? { pods } : {}) });
            }
          }
          return waiting.length === 0 ? { done: true, value: undefined } : { done: false, progress: waiting };
        },
        onDeadline: (waiting) =>
          kubehaFailure({
            type: ErrorType.DeadlineExceeded,
            message: `rollout not finished after ${input.timeoutSeconds} s: ${describeWaiting(waiting)}`,
            retryable: false,
            hint:
              podProblemHint(worstFirst(waiting.flatMap((w) => w.pods ?? []))) ??
              'kubectl describe the workloads and their pods (image pulls, scheduling, node readiness); run the step again once fixed, or raise the timeout',
            details: { waiting },
          }),
      });
    },

    async listNodes(input) {
      const { client } = await clientFor(input.kubeconfigSecret);
      try {
        const list = await client.get<{ items?: unknown[] }>('/api/v1/nodes');
        return (list.items ?? []).map(nodeStatus).sort((a, b) => a.name.localeCompare(b.name));
      } catch (err) {
        throw client.failure(err, 'list nodes');
      }
    },

    async waitNodeReady(input) {
      const { client, signal } = await clientFor(input.kubeconfigSecret);
      const nodePath = `/api/v1/nodes/${encodeURIComponent(input.nodeName)}`;
      return pollUntil<NodeStatus, string>({
        timeoutMs: input.timeoutSeconds * 1000,
        intervalMs: pollIntervalMs,
        signal,
        check: async () => {
          let node: unknown;
          try {
            node = await client.find(nodePath);
          } catch (err) {
            throw client.failure(err, `read node ${input.nodeName}`);
          }
          // Not found: the kubelet has not registered yet, which is what we wait for.
          if (node === undefined) return { done: false, progress: 'not registered' };
          const status = nodeStatus(node);
          return status.ready ? { done: true, value: status } : { done: false, progress: `not Ready (${status.reason})` };
        },
        onDeadline: (progress) =>
          kubehaFailure({
            type: ErrorType.DeadlineExceeded,
            message: `node ${input.nodeName} ${progress} after ${input.timeoutSeconds} s`,
            retryable: false,
            hint:
              progress === 'not registered'
                ? 'the kubelet on the host never registered: check `journalctl -u kubelet` there (join, certificates, API endpoint)'
                : progress.includes('NetworkPluginNotReady')
                  ? `the container runtime has no network: the CNI's pod does not run on this node or wrote no configuration; check \`kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=${input.nodeName}\``
                  : 'the kubelet reports NotReady: usually the CNI is not installed or not running yet; check `kubectl describe node`',
            details: { node: input.nodeName, state: progress },
          }),
      });
    },

    async writeReadProbe(input) {
      // Fresh connections: the write and the read each go where the load balancer routes now.
      const { client } = await clientFor(input.kubeconfigSecret, true);
      const nonce = randomUUID();
      const name = 'kubeha-write-probe';
      try {
        await client.apply(
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'kube-system' }, data: { nonce, purpose: input.purpose } },
          { fieldManager: 'kubeha', dryRun: false },
        );
        const read = await client.get<{ data?: Record<string, string>; metadata?: { resourceVersion?: string } }>(
          `/api/v1/namespaces/kube-system/configmaps/${name}`,
        );
        if (read.data?.nonce !== nonce) {
          throw kubehaFailure({
            type: ErrorType.VerificationFailed,
            message: `ConfigMap kube-system/${name} read back another value than was written`,
            retryable: true,
            hint: 'two API servers answer from different etcd clusters behind the load balancer: deregister the one that is not the restored member',
          });
        }
        return { resourceVersion: Number(read.metadata?.resourceVersion ?? 0) };
      } catch (err) {
        throw client.failure(err, `write and read ConfigMap kube-system/${name}`);
      }
    },

    async apiReady(input) {
      const { client } = await clientFor(input.kubeconfigSecret, true);
      try {
        // Any HTTP answer is a result (a 500 lists the failing checks); only no answer is an error.
        const { status, body } = await client.request('GET', '/readyz');
        return { ok: status === 200, status, body: typeof body === 'string' ? body.slice(0, 4000) : JSON.stringify(body) };
      } catch (err) {
        throw client.failure(err, 'GET /readyz');
      }
    },
  };
}
