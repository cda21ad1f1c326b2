/**
 * Server-side apply of a parsed manifest, in the order the API server needs: Namespaces and CRDs
 * first, then (once the CRDs are Established and served) everything else in manifest order.
 */
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { ApplyManifestResult, WorkloadRef } from '../types';
import { heartbeat, sleepUnlessCancelled } from '../activityContext';
import type { KubeClient, KubeObject } from './client';
import type { ManifestObject } from './manifest';

/** Knobs of {@link applyObjects}. */
export interface ApplySettings {
  fieldManager: string;
  dryRun: boolean;
  /** How long CRDs may take to become Established and served. */
  crdTimeoutMs: number;
  pollIntervalMs: number;
  signal?: AbortSignal;
}

const WORKLOAD_KINDS = new Set<WorkloadRef['kind']>(['Deployment', 'DaemonSet', 'StatefulSet']);
const CRD_API = 'apiextensions.k8s.io/v1';

function isCrd(object: KubeObject): boolean {
  return object.kind === 'CustomResourceDefinition' && object.apiVersion.startsWith('apiextensions.k8s.io/');
}

function isNamespace(object: KubeObject): boolean {
  return object.kind === 'Namespace' && object.apiVersion === 'v1';
}

function label(object: KubeObject): string {
  const ns = object.metadata.namespace;
  return `${object.kind} ${ns ? `${ns}/` : ''}${object.metadata.name}`;
}

/** `group/Kind` keys of the custom resources the manifest's CRDs define. */
function definedKinds(crds: KubeObject[]): Set<string> {
  const kinds = new Set<string>();
  for (const crd of crds) {
    const spec = (crd as { spec?: { group?: string; names?: { kind?: string } } }).spec;
    if (spec?.group && spec.names?.kind) kinds.add(`${spec.group}/${spec.names.kind}`);
  }
  return kinds;
}

function groupKind(object: KubeObject): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  return `${group}/${object.kind}`;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Waits until every CRD is Established; fails fast when the server refuses its names. */
async function waitCrdsEstablished(client: KubeClient, names: string[], settings: ApplySettings): Promise<void> {
  const deadline = Date.now() + settings.crdTimeoutMs;
  let pending = names;
  while (pending.length > 0) {
    const still: string[] = [];
    for (const name of pending) {
      const crd = await client.find<{ status?: { conditions?: Condition[] } }>(`/apis/${CRD_API}/customresourcedefinitions/${name}`);
      const conditions = crd?.status?.conditions ?? [];
      const namesAccepted = conditions.find((c) => c.type === 'NamesAccepted');
      if (namesAccepted?.status === 'False') {
        throw kubehaFailure({
          type: ErrorType.InvalidInput,
          message: `CRD ${name} not accepted: ${namesAccepted.reason}: ${namesAccepted.message}`,
          retryable: false,
          hint: 'another CRD already uses these names; fix the manifest or remove the other CRD',
        });
      }
      if (!conditions.some((c) => c.type === 'Established' && c.status === 'True')) still.push(name);
    }
    pending = still;
    if (pending.length === 0) return;
    heartbeat({ waitingForCrds: pending });
    if (Date.now() > deadline) {
      throw kubehaFailure({
        type: ErrorType.NotReady,
        message: `CRDs not Established after ${Math.round(settings.crdTimeoutMs / 1000)} s: ${pending.join(', ')}`,
        retryable: true,
        hint: 'the API server is slow to serve new CRDs; a retry re-applies (idempotent) and waits again',
      });
    }
    await sleepUnlessCancelled(settings.pollIntervalMs, settings.signal);
  }
}

/**
 * Waits until discovery lists the kind: the API server publishes a new CRD's resources shortly after
 * Established, and the client resolves paths through discovery.
 */
async function waitServed(client: KubeClient, object: KubeObject, settings: ApplySettings): Promise<void> {
  const deadline = Date.now() + settings.crdTimeoutMs;
  while (!(await client.serves(object.apiVersion, object.kind))) {
    if (Date.now() > deadline) {
      throw kubehaFailure({
        type: ErrorType.NotReady,
        message: `${object.apiVersion} ${object.kind} is not served ${Math.round(settings.crdTimeoutMs / 1000)} s after its CRD was Established`,
        retryable: true,
        hint: 'the API server is slow to publish the new kind; a retry re-applies (idempotent) and waits again',
      });
    }
    await sleepUnlessCancelled(settings.pollIntervalMs, settings.signal);
  }
}

/** Fails clearly when the server does not know the kind (rather than with discovery's bare 404). */
async function requireServed(client: KubeClient, object: KubeObject, where: string): Promise<void> {
  if (await client.serves(object.apiVersion, object.kind)) return;
  throw kubehaFailure({
    type: ErrorType.InvalidInput,
    message: `apply ${label(object)} (${where}): the API server does not serve ${object.kind} in ${object.apiVersion}`,
    retryable: false,
    hint: 'install the CRD that defines it first (or put it in the same manifest), or fix apiVersion/kind for this Kubernetes version',
  });
}

/** Whether a namespace exists (dry runs cannot check objects in namespaces the manifest only would create). */
async function namespaceExists(client: KubeClient, name: string, cache: Map<string, boolean>): Promise<boolean> {
  let exists = cache.get(name);
  if (exists === undefined) {
    exists = (await client.find(`/api/v1/namespaces/${name}`)) !== undefined;
    cache.set(name, exists);
  }
  return exists;
}

/**
 * Applies the objects (server-side apply, forced conflicts) and returns how many it applied and the
 * workloads among them. In a dry run the server checks each object without storing it, except custom
 * resources of CRDs and objects in Namespaces this same manifest would create: those cannot exist on
 * the server yet, so they are counted without a server check (`kubectl apply --dry-run=server` fails on them).
 */
export async function applyObjects(client: KubeClient, objects: ManifestObject[], settings: ApplySettings): Promise<ApplyManifestResult> {
  // Copies: the client fills in default namespaces, and the caller's objects stay as parsed.
  const entries = objects.map((entry) => ({ ...entry, object: structuredClone(entry.object) }));
  const first = entries.filter((e) => isNamespace(e.object) || isCrd(e.object));
  const rest = entries.filter((e) => !isNamespace(e.object) && !isCrd(e.object));
  const crds = first.filter((e) => isCrd(e.object)).map((e) => e.object);
  const newKinds = definedKinds(crds);
  const manifestNamespaces = new Set(first.filter((e) => isNamespace(e.object)).map((e) => e.object.metadata.name));
  const namespacesSeen = new Map<string, boolean>();

  const workloads: WorkloadRef[] = [];
  let applied = 0;
  const applyOne = async (entry: ManifestObject): Promise<void> => {
    const { object } = entry;
    try {
      if (settings.dryRun) {
        const unchecked =
          (newKinds.has(groupKind(object)) && !(await client.serves(object.apiVersion, object.kind))) ||
          (object.metadata.namespace !== undefined &&
            manifestNamespaces.has(object.metadata.namespace) &&
            !(await namespaceExists(client, object.metadata.namespace, namespacesSeen)));
        if (!unchecked) {
          await requireServed(client, object, entry.where);
          await client.apply(object, settings);
        }
      } else {
        if (newKinds.has(groupKind(object))) await waitServed(client, object, settings);
        await requireServed(client, object, entry.where);
        await client.apply(object, settings);
      }
    } catch (err) {
      throw client.failure(err, `apply ${label(object)} (${entry.where})`);
    }
    applied++;
    if (object.apiVersion === 'apps/v1' && WORKLOAD_KINDS.has(object.kind as WorkloadRef['kind'])) {
      workloads.push({
        kind: object.kind as WorkloadRef['kind'],
        namespace: object.metadata.namespace ?? client.namespaceDefault,
        name: object.metadata.name,
      });
    }
    heartbeat({ applied, total: entries.length, last: label(object) });
  };

  for (const entry of first) await applyOne(entry);
  if (!settings.dryRun && crds.length > 0) {
    try {
      await waitCrdsEstablished(
        client,
        crds.map((crd) => crd.metadata.name),
        settings,
      );
    } catch (err) {
      throw client.failure(err, 'wait for CRDs to be Established');
    }
  }
  for (const entry of rest) await applyOne(entry);
  return { applied, workloads };
}
