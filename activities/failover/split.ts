/**
 * The two shapes of a weighted split the mesh follows, read and rewritten without touching anything
 * else: SMI TrafficSplit (`spec.backends[].{service, weight}`) and an HTTPRoute's weighted
 * `spec.rules[].backendRefs[].{name, port, weight}` (Linkerd 2.13+, Gateway API). Pure functions.
 */

/** A split problem the caller turns into a kubeha failure. */
export class SplitShapeError extends Error {}

interface TrafficSplitBackend {
  service?: string;
  weight?: number | string;
  [field: string]: unknown;
}

interface BackendRef {
  name?: string;
  kind?: string;
  port?: number;
  weight?: number;
  [field: string]: unknown;
}

interface RouteRule {
  backendRefs?: BackendRef[];
  [field: string]: unknown;
}

/** The part of a split object these functions read. */
export interface SplitObject {
  metadata?: { resourceVersion?: string; uid?: string; name?: string; namespace?: string };
  spec?: { backends?: TrafficSplitBackend[]; rules?: RouteRule[]; [field: string]: unknown };
}

/**
 * A weight as SMI writes it: an integer, or (v1alpha1) a Kubernetes quantity such as "500m".
 * Gateway API backendRefs default to weight 1 when it is left out.
 */
export function weightValue(raw: unknown, absent: number): number {
  if (raw === undefined || raw === null) return absent;
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return raw;
  if (typeof raw === 'string') {
    const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(raw.trim());
    if (m) return Number(m[1]) / (m[2] ? 1000 : 1);
  }
  throw new SplitShapeError(`weight ${JSON.stringify(raw)} is neither a number nor a quantity`);
}

/** East's share in whole percent. */
export function percentOf(west: number, east: number): number {
  const total = west + east;
  return total === 0 ? 0 : Math.round((east / total) * 100);
}

/** The backends other than west and east that would still receive traffic. */
function othersWithWeight(names: Array<{ name?: string; weight: number }>, west: string, east: string): string[] {
  return names.filter((b) => b.name !== west && b.name !== east && b.weight > 0).map((b) => b.name ?? '(unnamed)');
}

/**
 * Reads west's and east's weights. HTTPRoute: every rule naming them must agree, unless `lenient`
 * (before a write that sets them all), which reads the first such rule.
 */
export function readWeights(
  kind: 'TrafficSplit' | 'HTTPRoute',
  object: SplitObject,
  west: string,
  east: string,
  lenient = false,
): { west: number; east: number; others: string[] } {
  if (kind === 'TrafficSplit') {
    const backends = object.spec?.backends ?? [];
    const list = backends.map((b) => ({ name: b.service, weight: weightValue(b.weight, 0) }));
    return {
      west: list.find((b) => b.name === west)?.weight ?? 0,
      east: list.find((b) => b.name === east)?.weight ?? 0,
      others: othersWithWeight(list, west, east),
    };
  }
  const rules = (object.spec?.rules ?? []).filter((r) => (r.backendRefs ?? []).some((b) => b.name === west || b.name === east));
  if (rules.length === 0) return { west: 0, east: 0, others: [] };
  const perRule = rules.map((rule) => {
    const list = (rule.backendRefs ?? []).map((b) => ({ name: b.name, weight: weightValue(b.weight, 1) }));
    return {
      west: list.find((b) => b.name === west)?.weight ?? 0,
      east: list.find((b) => b.name === east)?.weight ?? 0,
      others: othersWithWeight(list, west, east),
    };
  });
  const first = perRule[0];
  const disagreeing = perRule.findIndex((r) => percentOf(r.west, r.east) !== percentOf(first.west, first.east));
  if (disagreeing > 0 && !lenient)
    throw new SplitShapeError(
      `its rules split traffic differently (rule 1: east ${percentOf(first.west, first.east)}%, another: east ${percentOf(perRule[disagreeing].west, perRule[disagreeing].east)}%)`,
    );
  return { west: first.west, east: first.east, others: [...new Set(perRule.flatMap((r) => r.others))] };
}

/**
 * The `spec` fragment that gives east `eastPercent` and west the rest, for a JSON merge patch (arrays
 * are replaced whole, which is why the patch also carries the resourceVersion it was computed from).
 * A missing backend is added: the east one with the west one's port on HTTPRoutes.
 */
export function specWithPercent(
  kind: 'TrafficSplit' | 'HTTPRoute',
  object: SplitObject,
  west: string,
  east: string,
  eastPercent: number,
): Record<string, unknown> {
  const eastWeight = eastPercent;
  const westWeight = 100 - eastPercent;
  if (kind === 'TrafficSplit') {
    const backends = [...(object.spec?.backends ?? [])].map((b) => ({ ...b }));
    for (const [name, weight] of [
      [west, westWeight],
      [east, eastWeight],
    ] as const) {
      const found = backends.find((b) => b.service === name);
      if (found) found.weight = weight;
      else backends.push({ service: name, weight });
    }
    return { backends };
  }
  const rules = (object.spec?.rules ?? []).map((rule) => {
    const refs = (rule.backendRefs ?? []).map((b) => ({ ...b }));
    const westRef = refs.find((b) => b.name === west);
    const eastRef = refs.find((b) => b.name === east);
    if (!westRef && !eastRef) return rule;
    if (westRef) westRef.weight = westWeight;
    else refs.push({ name: west, port: eastRef?.port, weight: westWeight });
    if (eastRef) eastRef.weight = eastWeight;
    else refs.push({ name: east, port: westRef?.port, weight: eastWeight });
    return { ...rule, backendRefs: refs };
  });
  if (!rules.some((r) => (r.backendRefs ?? []).some((b) => b.name === west || b.name === east))) {
    throw new SplitShapeError(`no rule has a backendRef to ${west} or ${east}`);
  }
  return { rules };
}
