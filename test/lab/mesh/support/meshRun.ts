/**
 * LinkMeshClusters on a {@link MeshPair}: its input, and what the pair and kubeha's secret store hold
 * afterwards, read from the API servers and the store (never from kubeha's result): the anchors, the
 * Links and their credentials, the mirror and the split objects, and the resourceVersions of what
 * kubeha manages.
 */
import path from 'node:path';
import { bundleFingerprints } from '../../../../activities/mesh/pki';
import { trustSecretNames } from '../../../../activities/mesh/trust';
import { FileSecretStore } from '../../../../activities/secrets/store';
import { DEMO, GATEWAY_IPS, MC_NAMESPACE, type MeshPair, type PairRole } from './meshPair';

export const PAIR_NAME = 'west-east';

/** The run's input: the two contexts of the pair's kubeconfig, generated trust, the demo service and an HTTPRoute split. */
export function meshInput(pair: MeshPair) {
  return {
    pairName: PAIR_NAME,
    west: { name: 'west', kubeconfig: { file: pair.kubeconfigPath }, context: 'west' },
    east: { name: 'east', kubeconfig: { file: pair.kubeconfigPath }, context: 'east' },
    trust: { mode: 'generate' },
    services: [{ namespace: DEMO.namespace, name: DEMO.name }],
    trafficSplit: { kind: 'auto', localWeight: 100, remoteWeight: 0 },
    timeouts: { checkSeconds: 120, checkIntervalSeconds: 1, rolloutSeconds: 120, mirrorSeconds: 120 },
    onFailure: 'fail',
  };
}

/** The secret store a worker on `dataDir` keeps (KUBEHA_DATA_DIR/secrets). */
export const storeOf = (dataDir: string) => new FileSecretStore(path.join(dataDir, 'secrets'));

/** The anchor bundle kubeha stored for the pair, or undefined before the trust step stored it. */
export async function storedAnchors(dataDir: string): Promise<string | undefined> {
  const store = storeOf(dataDir);
  const name = trustSecretNames(PAIR_NAME).anchors;
  return (await store.has(name)) ? store.get(name) : undefined;
}

/** Every secret the store holds for the pair, name → value (to compare a store before and after). */
export async function storeSnapshot(dataDir: string): Promise<Record<string, string>> {
  const names = trustSecretNames(PAIR_NAME);
  const store = storeOf(dataDir);
  const all = [names.anchors, names.anchorKey, ...(['west', 'east'] as const).flatMap((r) => [names.issuerCertificate(r), names.issuerKey(r)])];
  const out: Record<string, string> = {};
  for (const name of all) if (await store.has(name)) out[name] = await store.get(name);
  return out;
}

type Meta = { name: string; namespace?: string; resourceVersion: string; labels?: Record<string, string> };
type List<T> = { items?: T[] };

/** What the pair holds after a run, as the API servers say. */
export interface PairRecords {
  /** PEM certificates in the anchor bundle of the store (must be 1). */
  storeAnchorCount: number;
  storeAnchorFingerprints: string[];
  /** Fingerprints of `linkerd-identity-trust-roots` per cluster. */
  installedAnchors: Record<PairRole, string[]>;
  /** Link objects on west. */
  links: string[];
  /** Remote-kubeconfig Secrets in linkerd-multicluster on west. */
  credentials: string[];
  /** The mirror `podinfo-east` on west: its labels' cluster name and its Endpoints' addresses and ports. */
  mirror?: { cluster?: string; addresses: string[]; ports: number[] };
  /** Split objects (HTTPRoute) on west managed by kubeha, `apiVersion name`. */
  routes: string[];
}

/** Reads {@link PairRecords}. */
export async function pairRecords(pair: MeshPair, dataDir: string): Promise<PairRecords> {
  const anchors = (await storedAnchors(dataDir)) ?? '';
  const storeAnchorFingerprints = anchors ? await bundleFingerprints(anchors) : [];
  const installedAnchors = { west: [] as string[], east: [] as string[] };
  for (const role of ['west', 'east'] as const) {
    const roots = await pair.apis[role].request<{ data?: Record<string, string> }>('GET', '/api/v1/namespaces/linkerd/configmaps/linkerd-identity-trust-roots');
    const pem = roots.status === 200 ? roots.body.data?.['ca-bundle.crt'] : undefined;
    installedAnchors[role] = pem ? await bundleFingerprints(pem) : [];
  }
  const west = pair.west;
  const links = await west.request<List<{ metadata: Meta }>>('GET', `/apis/multicluster.linkerd.io/v1alpha3/links`);
  const secrets = await west.request<List<{ metadata: Meta; type?: string }>>('GET', `/api/v1/namespaces/${MC_NAMESPACE}/secrets`);
  const mirrorName = `${DEMO.name}-east`;
  const svc = await west.request<{ metadata: Meta }>('GET', `/api/v1/namespaces/${DEMO.namespace}/services/${mirrorName}`);
  const eps = await west.request<{ subsets?: Array<{ addresses?: Array<{ ip: string }>; ports?: Array<{ port: number }> }> }>(
    'GET',
    `/api/v1/namespaces/${DEMO.namespace}/endpoints/${mirrorName}`,
  );
  const routes: string[] = [];
  for (const api of ['gateway.networking.k8s.io/v1', 'policy.linkerd.io/v1beta3']) {
    const res = await west.request<List<{ metadata: Meta; apiVersion?: string }>>('GET', `/apis/${api}/namespaces/${DEMO.namespace}/httproutes`);
    if (res.status === 200)
      routes.push(
        ...(res.body.items ?? []).filter((r) => r.metadata.labels?.['app.kubernetes.io/managed-by'] === 'kubeha').map((r) => `${api} ${r.metadata.name}`),
      );
  }
  return {
    storeAnchorCount: (anchors.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length,
    storeAnchorFingerprints,
    installedAnchors,
    links: (links.body.items ?? []).map((l) => `${l.metadata.namespace}/${l.metadata.name}`),
    credentials: (secrets.body.items ?? []).filter((s) => s.type === 'mirror.linkerd.io/remote-kubeconfig').map((s) => s.metadata.name),
    mirror:
      svc.status === 200
        ? {
            cluster: svc.body.metadata.labels?.['mirror.linkerd.io/cluster-name'],
            addresses: (eps.body.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)),
            ports: (eps.body.subsets ?? []).flatMap((s) => (s.ports ?? []).map((p) => p.port)),
          }
        : undefined,
    routes,
  };
}

/** What is wrong with a completed pair, one line per problem (none when it is what one clean run leaves). */
export function pairProblems(records: PairRecords, anchorBefore?: string[]): string[] {
  const problems: string[] = [];
  if (records.storeAnchorCount !== 1) problems.push(`the store holds ${records.storeAnchorCount} anchors (expected 1)`);
  const stored = records.storeAnchorFingerprints.join(',');
  for (const role of ['west', 'east'] as const)
    if (records.installedAnchors[role].join(',') !== stored)
      problems.push(`${role} trusts ${records.installedAnchors[role].join(',') || 'nothing'}, the store holds ${stored || 'nothing'}`);
  if (anchorBefore?.length && anchorBefore.join(',') !== stored)
    problems.push(`a second anchor was generated: ${anchorBefore.join(',')} before the kill, ${stored} after`);
  if (records.links.join(',') !== `${MC_NAMESPACE}/east`) problems.push(`Links on west: ${records.links.join(', ') || 'none'} (expected ${MC_NAMESPACE}/east)`);
  if (records.credentials.join(',') !== 'cluster-credentials-east')
    problems.push(`credentials Secrets on west: ${records.credentials.join(', ') || 'none'} (expected cluster-credentials-east)`);
  const mirror = records.mirror;
  if (!mirror) problems.push(`no mirror ${DEMO.name}-east on west`);
  else if (mirror.cluster !== 'east' || mirror.addresses.join(',') !== GATEWAY_IPS.east || mirror.ports.join(',') !== '4143')
    problems.push(`mirror ${DEMO.name}-east: ${JSON.stringify(mirror)} (expected cluster east, ${GATEWAY_IPS.east}:4143)`);
  if (records.routes.length !== 1 || !records.routes[0].endsWith(` ${DEMO.name}`))
    problems.push(`split objects on west: ${records.routes.join(', ') || 'none'}`);
  return problems;
}

/** Collections kubeha writes to on a cluster of the pair (namespaced ones listed across namespaces). */
const MANAGED_COLLECTIONS = [
  '/api/v1/namespaces',
  '/api/v1/configmaps',
  '/api/v1/secrets',
  '/api/v1/services',
  '/api/v1/serviceaccounts',
  '/apis/apps/v1/deployments',
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  '/apis/rbac.authorization.k8s.io/v1/roles',
  '/apis/rbac.authorization.k8s.io/v1/rolebindings',
  '/apis/multicluster.linkerd.io/v1alpha3/links',
  '/apis/policy.linkerd.io/v1beta3/httproutes',
];

/**
 * `<role> <collection> <namespace>/<name>` → resourceVersion of every object in the collections kubeha
 * writes, on both clusters; objects of kube-system and kube-public left out (the API server's own).
 */
export async function resourceVersions(pair: MeshPair): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const role of ['west', 'east'] as const) {
    for (const collection of MANAGED_COLLECTIONS) {
      const res = await pair.apis[role].request<List<{ metadata: Meta }>>('GET', collection);
      if (res.status === 404) continue;
      if (res.status !== 200) throw new Error(`GET ${collection} on ${role}: HTTP ${res.status}`);
      for (const item of res.body.items ?? []) {
        const ns = item.metadata.namespace ?? '';
        if (ns.startsWith('kube-') || (collection.endsWith('/namespaces') && item.metadata.name.startsWith('kube-'))) continue;
        // The API server's own objects (bootstrap RBAC, the default namespace's kubernetes Service) are not kubeha's.
        if (item.metadata.name.startsWith('system:') || item.metadata.labels?.['kubernetes.io/bootstrapping']) continue;
        out.set(`${role} ${collection} ${ns}/${item.metadata.name}`, item.metadata.resourceVersion);
      }
    }
  }
  return out;
}
