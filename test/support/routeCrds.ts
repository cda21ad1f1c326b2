/**
 * CustomResourceDefinitions with structural schemas for the traffic objects kubeha writes, written from
 * the documented fields of each API (SMI TrafficSplit v1alpha1/v1alpha2, Gateway API HTTPRoute v1 and
 * Linkerd's policy.linkerd.io HTTPRoute, which mirrors it). With them, the real kube-apiserver refuses a
 * field kubeha misspells or a value of the wrong type, instead of keeping whatever it is sent.
 */

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int = (minimum?: number, maximum?: number): Schema => ({
  type: 'integer',
  format: 'int32',
  ...(minimum === undefined ? {} : { minimum }),
  ...(maximum === undefined ? {} : { maximum }),
});
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, ...(required.length ? { required } : {}) });
const list = (items: Schema, maxItems?: number): Schema => ({ type: 'array', items, ...(maxItems ? { maxItems } : {}) });
const anything: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

/** A CRD of one group and kind, with the given versions (the first is stored). */
function crd(
  group: string,
  kind: string,
  plural: string,
  versions: Array<{ name: string; spec: Schema }>,
  annotations: Record<string, string> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, annotations },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: versions.map((v, i) => ({
        name: v.name,
        served: true,
        storage: i === 0,
        subresources: { status: {} },
        schema: { openAPIV3Schema: obj({ apiVersion: str, kind: str, metadata: { type: 'object' }, spec: v.spec, status: anything }, ['spec']) },
      })),
    },
  };
}

/** SMI TrafficSplit: the apex service and weighted backends (v1alpha1 weights may be quantities). */
export function trafficSplitCrd(): Record<string, unknown> {
  const spec = (weight: Schema): Schema =>
    obj(
      {
        service: str,
        backends: list(obj({ service: str, weight }, ['service', 'weight'])),
        matches: list(obj({ kind: str, name: str, apiGroup: str }, ['kind', 'name'])),
      },
      ['service', 'backends'],
    );
  return crd('split.smi-spec.io', 'TrafficSplit', 'trafficsplits', [
    { name: 'v1alpha1', spec: spec({ 'x-kubernetes-int-or-string': true }) },
    { name: 'v1alpha2', spec: spec(int(0)) },
  ]);
}

/** The HTTPRoute spec as the Gateway API documents it (Linkerd's policy.linkerd.io copy has the same shape). */
function httpRouteSpec(): Schema {
  const parentRef = obj({ group: str, kind: str, namespace: str, name: str, sectionName: str, port: int(1, 65535) }, ['name']);
  const match = obj({
    path: obj({ type: { type: 'string', enum: ['Exact', 'PathPrefix', 'RegularExpression'] }, value: str }),
    headers: list(obj({ type: str, name: str, value: str }, ['name', 'value'])),
    queryParams: list(obj({ type: str, name: str, value: str }, ['name', 'value'])),
    method: str,
  });
  const backendRef = obj({ group: str, kind: str, name: str, namespace: str, port: int(1, 65535), weight: int(0, 1_000_000), filters: list(anything) }, [
    'name',
  ]);
  const rule = obj({
    name: str,
    matches: list(match, 64),
    filters: list(anything, 16),
    backendRefs: list(backendRef, 16),
    timeouts: obj({ request: str, backendRequest: str }),
  });
  return obj({ parentRefs: list(parentRef, 32), hostnames: list(str, 16), rules: list(rule, 16) });
}

/** HTTPRoute in gateway.networking.k8s.io v1 (the Gateway API's standard channel). */
export function gatewayHttpRouteCrd(): Record<string, unknown> {
  return crd('gateway.networking.k8s.io', 'HTTPRoute', 'httproutes', [{ name: 'v1', spec: httpRouteSpec() }], {
    'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/1538',
  });
}

/** HTTPRoute in policy.linkerd.io (v1beta3 stored, v1beta2 served), as Linkerd's CRDs ship it. */
export function linkerdHttpRouteCrd(): Record<string, unknown> {
  return crd('policy.linkerd.io', 'HTTPRoute', 'httproutes', [
    { name: 'v1beta3', spec: httpRouteSpec() },
    { name: 'v1beta2', spec: httpRouteSpec() },
  ]);
}
