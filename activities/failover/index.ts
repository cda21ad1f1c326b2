/**
 * The failover activities: readiness of the services involved, and the mesh's traffic split in west,
 * read, changed step by step, read back and verified, each change recorded as an Event on the object.
 * They reach the clusters through the Kubernetes activities' kubeconfig loading and API client.
 */
import { ErrorType, kubehaFailure } from '../../common/errors';
import { cancellationSignal } from '../activityContext';
import { KubeClient, type KubeObject } from '../kubernetes/client';
import { KubeApiError } from '../kubernetes/errors';
import { KubeconfigCache } from '../kubernetes/kubeconfig';
import type { SecretStore } from '../secrets/store';
import type { SecretName } from '../types';
import { recordEvent } from './events';
import { readServiceReadiness } from './readiness';
import { percentOf, readWeights, SplitShapeError, specWithPercent, type SplitObject } from './split';
import type { FailoverActivities, ServiceProbe, SplitRef, SplitState, SplitWeights } from './types';

export type * from './types';

/** What the failover activities need. */
export interface FailoverDependencies {
  /** Holds the clusters' kubeconfigs by name. */
  secrets: SecretStore;
  /** Timeout of each API request. Default 10000 ms. */
  requestTimeoutMs?: number;
}

/** Whether the split already is exactly where the write would put it (every rule, non-zero total). */
function sameAsTarget(ref: SplitRef & { eastPercent: number }, object: SplitObject, lenient: SplitState): boolean {
  if (lenient.eastPercent !== ref.eastPercent || lenient.west + lenient.east === 0) return false;
  try {
    readWeights(ref.kind, object, ref.westBackend, ref.eastBackend);
    return true;
  } catch {
    return false;
  }
}

function weightsOnly(state: SplitState): SplitWeights {
  return { west: state.west, east: state.east, eastPercent: state.eastPercent };
}

function label(ref: SplitRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** Builds the failover activities. */
export function createFailoverActivities(deps: FailoverDependencies): FailoverActivities {
  const kubeconfigs = new KubeconfigCache(deps.secrets);
  const requestTimeoutMs = deps.requestTimeoutMs ?? 10_000;

  const clientFor = async (secret: SecretName) => new KubeClient(await kubeconfigs.load(secret), { requestTimeoutMs, signal: cancellationSignal() });

  /** The split object, or a Conflict failure naming what is missing. */
  async function getSplit(client: KubeClient, ref: SplitRef): Promise<{ object: KubeObject & SplitObject; path: string }> {
    const object = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    let path: string;
    try {
      path = await client.pathOf(object);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) {
        throw kubehaFailure({
          type: ErrorType.Conflict,
          message: `west does not serve ${ref.kind} in ${ref.apiVersion}`,
          retryable: false,
          hint:
            ref.kind === 'TrafficSplit'
              ? 'install the linkerd-smi extension on west (linkerd smi install), or use an HTTPRoute split'
              : 'use the HTTPRoute apiVersion the installed Linkerd serves (policy.linkerd.io/v1beta2 from 2.13, gateway.networking.k8s.io/v1 from 2.18)',
          details: { split: label(ref) },
        });
      }
      throw client.failure(err, `discover ${ref.kind}`);
    }
    let found: (KubeObject & SplitObject) | undefined;
    try {
      found = await client.find<KubeObject & SplitObject>(path);
    } catch (err) {
      throw client.failure(err, `read ${label(ref)}`);
    }
    if (!found) {
      throw kubehaFailure({
        type: ErrorType.Conflict,
        message: `${label(ref)} does not exist in west`,
        retryable: false,
        hint: `create it with both backends (${ref.westBackend} weight 100, ${ref.eastBackend} weight 0), as the seed's TrafficSplit does, then retry the step`,
        details: { split: label(ref) },
      });
    }
    return { object: found, path };
  }

  function weightsOf(ref: SplitRef, object: SplitObject, lenient = false): SplitState {
    let read: ReturnType<typeof readWeights>;
    try {
      read = readWeights(ref.kind, object, ref.westBackend, ref.eastBackend, lenient);
    } catch (err) {
      if (!(err instanceof SplitShapeError)) throw err;
      throw kubehaFailure({
        type: ErrorType.Conflict,
        message: `${label(ref)}: ${err.message}`,
        retryable: false,
        hint: 'make the split consistent by hand, then retry the step',
        details: { split: label(ref) },
      });
    }
    if (read.others.length > 0) {
      throw kubehaFailure({
        type: ErrorType.Conflict,
        message: `${label(ref)} also sends traffic to ${read.others.join(', ')}`,
        retryable: false,
        hint: `kubeha moves traffic between ${ref.westBackend} and ${ref.eastBackend} only; set the other backends' weight to 0 or list them as the service's backends`,
        details: { split: label(ref), others: read.others },
      });
    }
    return { west: read.west, east: read.east, eastPercent: percentOf(read.west, read.east), resourceVersion: object.metadata?.resourceVersion ?? '' };
  }

  return {
    async serviceReadiness(input) {
      const client = await clientFor(input.kubeconfigSecret);
      try {
        return await readServiceReadiness(client, input.namespace, input.name);
      } catch (err) {
        throw client.failure(err, `read endpoints of ${input.namespace}/${input.name}`);
      }
    },

    async servicesReadiness(input) {
      const client = await clientFor(input.kubeconfigSecret);
      const probes: ServiceProbe[] = [];
      for (const { namespace, name } of input.services) {
        const service = `${namespace}/${name}`;
        try {
          probes.push({ service, readiness: await readServiceReadiness(client, namespace, name) });
        } catch (err) {
          probes.push({ service, error: client.failure(err, `read endpoints of ${service}`).message });
        }
      }
      return probes;
    },

    async readSplit(input) {
      const client = await clientFor(input.kubeconfigSecret);
      const { object } = await getSplit(client, input);
      return weightsOf(input, object);
    },

    async setSplitWeights(input) {
      const client = await clientFor(input.kubeconfigSecret);
      const { object, path } = await getSplit(client, input);
      // Lenient: rules that disagree are what this write makes consistent.
      const before = weightsOf(input, object, true);
      let current = object;
      let changed = false;
      if (!sameAsTarget(input, object, before)) {
        let spec: Record<string, unknown>;
        try {
          spec = specWithPercent(input.kind, object, input.westBackend, input.eastBackend, input.eastPercent);
        } catch (err) {
          if (!(err instanceof SplitShapeError)) throw err;
          throw kubehaFailure({
            type: ErrorType.Conflict,
            message: `${label(input)}: ${err.message}`,
            retryable: false,
            hint: 'add backendRefs for both backends to the route, then retry the step',
          });
        }
        // The resourceVersion makes the merge patch fail (409) if someone changed the object since it was read.
        const patch = { metadata: { resourceVersion: object.metadata.resourceVersion }, spec };
        const res = await client.request('PATCH', path, JSON.stringify(patch), 'application/merge-patch+json').catch((err: unknown) => {
          throw client.failure(err, `patch ${label(input)}`);
        });
        if (res.status === 409) {
          throw kubehaFailure({
            type: ErrorType.CloudTransient,
            message: `${label(input)} changed while kubeha updated it`,
            retryable: true,
            hint: 'another writer changed the split; the retry reads it again',
          });
        }
        if (res.status < 200 || res.status > 299) throw client.failure(new KubeApiError(res.status, res.body), `patch ${label(input)}`);
        changed = true;
        // Read back from the API, not from the PATCH answer: what the mesh reads is what counts.
        current = (await getSplit(client, input)).object;
      }
      const after = weightsOf(input, current);
      if (after.eastPercent !== input.eastPercent) {
        throw kubehaFailure({
          type: ErrorType.VerificationFailed,
          message: `${label(input)} reads back east ${after.eastPercent}% (west ${after.west}, east ${after.east}), not the ${input.eastPercent}% just written`,
          retryable: false,
          hint: 'another controller rewrites the split (linkerd-failover, GitOps): pause it for this split, then retry the step',
          details: { split: label(input), expected: input.eastPercent, observed: after.eastPercent },
        });
      }
      let eventRecorded: boolean;
      try {
        eventRecorded = await recordEvent(
          client,
          {
            apiVersion: input.apiVersion,
            kind: input.kind,
            namespace: input.namespace,
            name: input.name,
            uid: (current.metadata as { uid?: string }).uid,
            resourceVersion: after.resourceVersion,
          },
          input.event,
        );
      } catch (err) {
        throw client.failure(err, `record an Event on ${label(input)}`);
      }
      return { changed, before: weightsOnly(before), after: weightsOnly(after), eventRecorded };
    },
  };
}
