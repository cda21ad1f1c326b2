/**
 * Traffic split objects on west, ready for failover: west's own Service and east's mirror as weighted
 * backends. Current Linkerd (2.13 on) takes an HTTPRoute whose parentRef is the Service
 * (`gateway.networking.k8s.io/v1` from 2.18, `policy.linkerd.io` before); older Linkerd an SMI
 * TrafficSplit (the seed's, written here with the metadata and spec the seed's YAML lost), which needs
 * the linkerd-smi extension.
 */
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { KubeClient, KubeObject } from '../kubernetes/client';
import { parseLinkerdVersion, prefersHttpRoute } from './linkerdCli';
import type { TrafficSplitInput, TrafficSplitResult } from './types';

const HTTPROUTE_APIS = ['gateway.networking.k8s.io/v1', 'policy.linkerd.io/v1beta3', 'policy.linkerd.io/v1beta2'];
const SMI_APIS = ['split.smi-spec.io/v1alpha2', 'split.smi-spec.io/v1alpha1'];

/** The first of `apis` that serves `kind` on the cluster. */
async function servedApi(client: KubeClient, apis: string[], kind: string): Promise<string | undefined> {
  for (const api of apis) if (await client.serves(api, kind)) return api;
  return undefined;
}

/** The kind the input asks for, `auto` resolved by the control plane's version. */
export function resolveSplitKind(kind: TrafficSplitInput['kind'], linkerdVersion: string | undefined): 'smi' | 'httproute' {
  if (kind !== 'auto') return kind;
  return prefersHttpRoute(parseLinkerdVersion(linkerdVersion)) ? 'httproute' : 'smi';
}

/** The split object for one service. */
export function splitObject(
  kind: 'smi' | 'httproute',
  apiVersion: string,
  ns: string,
  name: string,
  port: number,
  mirror: string,
  local: number,
  remote: number,
): KubeObject {
  const metadata = { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'kubeha' } };
  if (kind === 'smi') {
    return {
      apiVersion,
      kind: 'TrafficSplit',
      metadata,
      spec: {
        service: name,
        backends: [
          { service: name, weight: local },
          { service: mirror, weight: remote },
        ],
      },
    };
  }
  return {
    apiVersion,
    kind: 'HTTPRoute',
    metadata,
    spec: {
      parentRefs: [{ group: 'core', kind: 'Service', name, port }],
      rules: [
        {
          backendRefs: [
            { name, port, weight: local },
            { name: mirror, port, weight: remote },
          ],
        },
      ],
    },
  };
}

/** Applies the split objects on west (server-side apply: a second run changes nothing). */
export async function ensureTrafficSplit(west: KubeClient, input: TrafficSplitInput): Promise<TrafficSplitResult> {
  const kind = resolveSplitKind(input.kind, input.linkerdVersion);
  const apiVersion = await servedApi(west, kind === 'smi' ? SMI_APIS : HTTPROUTE_APIS, kind === 'smi' ? 'TrafficSplit' : 'HTTPRoute');
  if (!apiVersion) {
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      message:
        kind === 'smi' ? 'west serves no SMI TrafficSplit (split.smi-spec.io)' : 'west serves no HTTPRoute (gateway.networking.k8s.io or policy.linkerd.io)',
      retryable: false,
      hint:
        kind === 'smi'
          ? 'install the linkerd-smi extension on west (linkerd smi install), or choose trafficSplit.kind "httproute"'
          : 'install Linkerd CRDs 2.13 or newer (install-crds step), or the Gateway API CRDs',
    });
  }
  const applied: string[] = [];
  for (const svc of input.services) {
    const local = await west.find<{ spec?: { ports?: Array<{ port?: number }> } }>(`/api/v1/namespaces/${svc.namespace}/services/${svc.name}`);
    const port = local?.spec?.ports?.[0]?.port;
    if (!local || !port) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        message: `west has no Service ${svc.namespace}/${svc.name} (with a port) to split traffic from`,
        retryable: false,
        hint: "the split balances west's own service with east's mirror: deploy the service on west too",
      });
    }
    const object = splitObject(kind, apiVersion, svc.namespace, svc.name, port, `${svc.name}-${input.eastName}`, input.localWeight, input.remoteWeight);
    try {
      await west.apply(object, { fieldManager: 'kubeha-mesh', dryRun: input.dryRun ?? false });
    } catch (err) {
      throw west.failure(err, `apply ${object.kind} ${svc.namespace}/${svc.name}`);
    }
    applied.push(`${object.kind} ${svc.namespace}/${svc.name}`);
  }
  return { kind, apiVersion, applied };
}
