/**
 * `linkerd install --crds`: the CustomResourceDefinitions of the linkerd-crds chart (policy, service
 * profiles, external workloads), by name, group, kind and versions. The schemas are open
 * (`x-kubernetes-preserve-unknown-fields`): the lab keeps the chart's API surface, not its validation.
 * The Gateway API CRDs are left out, as the chart does by default (`installGatewayAPI: false`).
 */
import { type RenderedObject, meta } from './manifest';
import { CREATED_BY, createdBy } from './names';

/** One CRD of the chart. */
export interface CrdSpec {
  group: string;
  kind: string;
  plural: string;
  /** Served versions, oldest first; the last is stored. */
  versions: string[];
  /** `linkerd.io/extension` of the chart that owns it, when not the core CRDs. */
  extension?: string;
  /** Whether the versions serve a `status` subresource (the Link's does: its controller writes status there). */
  statusSubresource?: boolean;
}

/** The linkerd-crds chart's definitions. */
export const CORE_CRDS: CrdSpec[] = [
  { group: 'policy.linkerd.io', kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', versions: ['v1alpha1'] },
  { group: 'policy.linkerd.io', kind: 'EgressNetwork', plural: 'egressnetworks', versions: ['v1alpha1'] },
  { group: 'policy.linkerd.io', kind: 'HTTPLocalRateLimitPolicy', plural: 'httplocalratelimitpolicies', versions: ['v1alpha1'] },
  { group: 'policy.linkerd.io', kind: 'HTTPRoute', plural: 'httproutes', versions: ['v1alpha1', 'v1beta1', 'v1beta2', 'v1beta3'] },
  { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', plural: 'meshtlsauthentications', versions: ['v1alpha1'] },
  { group: 'policy.linkerd.io', kind: 'NetworkAuthentication', plural: 'networkauthentications', versions: ['v1alpha1'] },
  { group: 'policy.linkerd.io', kind: 'ServerAuthorization', plural: 'serverauthorizations', versions: ['v1alpha1', 'v1beta1'] },
  { group: 'policy.linkerd.io', kind: 'Server', plural: 'servers', versions: ['v1alpha1', 'v1beta1', 'v1beta2', 'v1beta3'] },
  { group: 'linkerd.io', kind: 'ServiceProfile', plural: 'serviceprofiles', versions: ['v1alpha1', 'v1alpha2'] },
  { group: 'workload.linkerd.io', kind: 'ExternalWorkload', plural: 'externalworkloads', versions: ['v1alpha1', 'v1beta1'] },
];

/** The multicluster chart's Link definition. */
export const LINK_CRD: CrdSpec = {
  group: 'multicluster.linkerd.io',
  kind: 'Link',
  plural: 'links',
  versions: ['v1alpha1', 'v1alpha2', 'v1alpha3'],
  extension: 'multicluster',
  statusSubresource: true,
};

/** The CRD object of `spec`. */
export function crdObject(spec: CrdSpec, version: string): RenderedObject {
  const labels: Record<string, string> = spec.extension ? { 'linkerd.io/extension': spec.extension } : { 'helm.sh/chart': 'linkerd-crds-0.0.0-undefined' };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: meta(`${spec.plural}.${spec.group}`, undefined, labels, { [CREATED_BY]: createdBy(version) }),
    spec: {
      group: spec.group,
      scope: 'Namespaced',
      names: { kind: spec.kind, plural: spec.plural, singular: spec.kind.toLowerCase(), listKind: `${spec.kind}List` },
      versions: spec.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === spec.versions.length - 1,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        ...(spec.statusSubresource ? { subresources: { status: {} } } : {}),
      })),
    },
  };
}

/** What `linkerd install --crds` prints. */
export function renderCrds(version: string): RenderedObject[] {
  return CORE_CRDS.map((spec) => crdObject(spec, version));
}
