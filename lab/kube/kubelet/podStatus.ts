/**
 * LAB EMULATION of what a kubelet reports for a pod it runs. The lab runs no containers: a pod's
 * outcome follows the lab's rules (labRules.ts) and the runtime's network state, and is reported in
 * the kubelet's own words (phases, conditions, container states, CrashLoopBackOff back-off).
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../client';
import type { WorkloadRules } from './labRules';
import { CNI_CONF_DIR, NETWORK_NOT_READY_MESSAGE } from './network';

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string } } }[];
}

/** The parts of a pod spec the kubelet reads. */
export interface LabPodSpec {
  nodeName?: string;
  hostNetwork?: boolean;
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; hostPath?: { path: string } }[];
}

/** What a pod does on this node, by the lab's rules. */
export type PodOutcome = 'crash-loop' | 'waiting-network' | 'running' | 'running-unready';

/** A CNI pod: one that mounts the host's CNI configuration folder (as Calico's and Flannel's do). */
export function isCniPod(spec: LabPodSpec): boolean {
  return (spec.volumes ?? []).some((v) => v.hostPath?.path.replace(/\/+$/, '') === CNI_CONF_DIR);
}

/** `namespace/name` of the workload that controls the pod, when one does. */
export function controllingWorkload(pod: KubeObject): string | undefined {
  const owners = (pod.metadata?.ownerReferences ?? []) as { name: string; controller?: boolean }[];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  return owner ? `${pod.metadata?.namespace}/${owner.name}` : undefined;
}

/** Decides what a pod does, by the rules, the network and the pod's kind. */
export function podOutcome(pod: KubeObject, rules: WorkloadRules, networkReady: boolean): PodOutcome {
  const spec = pod.spec as unknown as LabPodSpec;
  if (rules.cniCrash && isCniPod(spec)) return 'crash-loop';
  if (!spec.hostNetwork && !networkReady) return 'waiting-network';
  const workload = controllingWorkload(pod);
  if (workload && rules.neverReady.includes(workload)) return 'running-unready';
  return 'running';
}

const BACKOFF_START_S = 10;
const BACKOFF_MAX_S = 300;

/** How many restarts a crash-looping container has had after `seconds` (the kubelet's doubling back-off). */
export function restartsAfter(seconds: number): number {
  let restarts = 0;
  let elapsed = 0;
  for (let backoff = BACKOFF_START_S; elapsed + backoff <= seconds; backoff = Math.min(backoff * 2, BACKOFF_MAX_S)) {
    elapsed += backoff;
    restarts += 1;
  }
  return restarts;
}

function condition(type: string, ok: boolean, reason?: string, message?: string): Record<string, unknown> {
  return { type, status: ok ? 'True' : 'False', ...(ok || !reason ? {} : { reason }), ...(ok || !message ? {} : { message }) };
}

function podAddress(pod: KubeObject, hostIP: string, spec: LabPodSpec): string {
  if (spec.hostNetwork) return hostIP;
  const digest = createHash('sha256')
    .update(String(pod.metadata?.uid ?? pod.metadata?.name))
    .digest();
  return `10.244.${digest[0]}.${(digest[1] % 253) + 1}`;
}

/** The status a kubelet would post for the pod now. */
export function labPodStatus(pod: KubeObject, outcome: PodOutcome, hostIP: string, now: Date): Record<string, unknown> {
  const spec = pod.spec as unknown as LabPodSpec;
  const previous = (pod.status ?? {}) as { startTime?: string; qosClass?: string };
  const startTime = previous.startTime ?? now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const podName = `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
  const inits = spec.initContainers ?? [];
  // The API server sets the QoS class when it admits the pod, and it never changes.
  const base = { hostIP, hostIPs: [{ ip: hostIP }], startTime, ...(previous.qosClass ? { qosClass: previous.qosClass } : {}) };
  const waiting = (c: Container, reason: string, message?: string) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: { waiting: { reason, ...(message ? { message } : {}) } },
  });
  const scheduled = condition('PodScheduled', true);
  const completed = (c: Container) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ready: true,
    started: false,
    restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: startTime, finishedAt: startTime } },
  });

  if (outcome === 'waiting-network') {
    return {
      ...base,
      phase: 'Pending',
      conditions: [
        condition('PodReadyToStartContainers', false),
        condition('Initialized', inits.length === 0, 'ContainersNotInitialized', `containers with incomplete status: [${inits.map((c) => c.name).join(' ')}]`),
        condition('Ready', false, 'ContainersNotReady', `containers with unready status: [${spec.containers.map((c) => c.name).join(' ')}]`),
        condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${spec.containers.map((c) => c.name).join(' ')}]`),
        scheduled,
      ],
      ...(inits.length ? { initContainerStatuses: inits.map((c) => waiting(c, 'PodInitializing')) } : {}),
      containerStatuses: spec.containers.map((c) => waiting(c, 'ContainerCreating', `network is not ready: ${NETWORK_NOT_READY_MESSAGE}`)),
    };
  }

  const podIP = podAddress(pod, hostIP, spec);
  const addresses = { podIP, podIPs: [{ ip: podIP }] };
  if (outcome === 'crash-loop') {
    const restarts = restartsAfter((now.getTime() - Date.parse(startTime)) / 1000);
    const backoff = Math.min(BACKOFF_START_S * 2 ** Math.max(restarts - 1, 0), BACKOFF_MAX_S);
    // The first container to run is the one that crashes: the first init container when there is one,
    // unless the init containers completed before (a running pod whose image broke crashes in its main container).
    const initDone =
      (pod.status as { phase?: string } | undefined)?.phase === 'Running' &&
      !((pod.status as { initContainerStatuses?: { state?: { waiting?: unknown } }[] }).initContainerStatuses ?? []).some((c) => c.state?.waiting);
    const crashInInit = inits.length > 0 && !initDone;
    const crashing = crashInInit ? inits[0] : spec.containers[0];
    const crashed = {
      name: crashing.name,
      image: crashing.image,
      imageID: '',
      ready: false,
      started: false,
      restartCount: restarts,
      state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${backoff}s restarting failed container=${crashing.name} pod=${podName}` } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: startTime, finishedAt: startTime } },
    };
    const names = spec.containers.map((c) => c.name).join(' ');
    return {
      ...base,
      ...addresses,
      phase: crashInInit ? 'Pending' : 'Running',
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', !crashInInit, 'ContainersNotInitialized', `containers with incomplete status: [${crashing.name}]`),
        condition('Ready', false, 'ContainersNotReady', `containers with unready status: [${names}]`),
        condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${names}]`),
        scheduled,
      ],
      ...(crashInInit
        ? { initContainerStatuses: [crashed, ...inits.slice(1).map((c) => waiting(c, 'PodInitializing'))] }
        : inits.length
          ? { initContainerStatuses: inits.map(completed) }
          : {}),
      containerStatuses: crashInInit
        ? spec.containers.map((c) => waiting(c, 'PodInitializing'))
        : [crashed, ...spec.containers.slice(1).map((c) => waiting(c, 'PodInitializing'))],
    };
  }

  const ready = outcome === 'running';
  const names = spec.containers.map((c) => c.name).join(' ');
  return {
    ...base,
    ...addresses,
    phase: 'Running',
    conditions: [
      condition('PodReadyToStartContainers', true),
      condition('Initialized', true),
      condition('Ready', ready, 'ContainersNotReady', `containers with unready status: [${names}]`),
      condition('ContainersReady', ready, 'ContainersNotReady', `containers with unready status: [${names}]`),
      scheduled,
    ],
    ...(inits.length ? { initContainerStatuses: inits.map(completed) } : {}),
    containerStatuses: spec.containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      containerID: `containerd://${createHash('sha256').update(`${pod.metadata?.uid}/${c.name}`).digest('hex')}`,
      ready,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: startTime } },
    })),
  };
}

/** What of a pod status matters for deciding whether to post it again (no timestamps). */
export function statusSignature(status: unknown): string {
  const s = (status ?? {}) as {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    initContainerStatuses?: unknown[];
    containerStatuses?: unknown[];
  };
  const containers = (list: unknown[] | undefined) =>
    (list ?? []).map((c) => {
      const cs = c as { name: string; ready: boolean; restartCount: number; state?: Record<string, { reason?: string }> };
      const [state, detail] = Object.entries(cs.state ?? {})[0] ?? ['', {}];
      return [cs.name, cs.ready, cs.restartCount, state, detail?.reason];
    });
  return JSON.stringify([
    s.phase,
    s.podIP,
    (s.conditions ?? []).map((c) => [c.type, c.status, c.reason]).sort(),
    containers(s.initContainerStatuses),
    containers(s.containerStatuses),
  ]);
}

/** The CNI configuration a CNI pod's install container writes: its file name and content, from the container's env. */
export function cniConfigOf(
  spec: LabPodSpec,
  readConfigMapKey: (name: string, key: string) => Promise<string | undefined>,
): Promise<{ name: string; content: string } | undefined> {
  const install = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.env?.some((e) => e.name === 'CNI_NETWORK_CONFIG'));
  const envValue = async (name: string): Promise<string | undefined> => {
    const entry = install?.env?.find((e) => e.name === name);
    if (!entry) return undefined;
    if (entry.value !== undefined) return entry.value;
    const ref = entry.valueFrom?.configMapKeyRef;
    return ref ? readConfigMapKey(ref.name, ref.key) : undefined;
  };
  return (async () => {
    const content = await envValue('CNI_NETWORK_CONFIG');
    if (!content) return undefined;
    const name = (await envValue('CNI_CONF_NAME')) ?? '10-lab.conflist';
    return { name, content };
  })();
}
