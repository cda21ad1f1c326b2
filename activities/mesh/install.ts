/**
 * Linkerd's manifests, rendered by the real CLI and applied through the Kubernetes API with kubeha's
 * server-side apply (activities/kubernetes/apply.ts): CRDs, the control plane with the pair's anchors
 * and the cluster's issuer, the multicluster extension. Each checks the cluster first and applies only
 * when something differs. Rendered manifests hold the issuer key: they are never logged or returned.
 */
import { cancellationSignal } from '../activityContext';
import { applyObjects } from '../kubernetes/apply';
import type { KubeClient } from '../kubernetes/client';
import { type ManifestObject, parseManifest } from '../kubernetes/manifest';
import type { SecretStore } from '../secrets/store';
import type { WorkloadRef } from '../types';
import { installedAnchorsPem, installedLinkerd, LINKERD_NAMESPACE, MULTICLUSTER_NAMESPACE, VERSION_LABEL } from './clusterState';
import type { LinkerdCli } from './linkerdCli';
import { bundleFingerprints, certificateFacts, parseCertificates } from './pki';
import type { ClusterAccess, InstallResult, TrustMaterial } from './types';

/** Knobs shared by the installs. */
export interface InstallDeps {
  secrets: SecretStore;
  cli: LinkerdCli;
  client: (access: ClusterAccess) => Promise<KubeClient>;
  pollIntervalMs: number;
  crdTimeoutMs: number;
}

/** Applies rendered manifest text to a cluster; returns how many objects and the workloads. */
export async function applyRendered(
  deps: InstallDeps,
  access: ClusterAccess,
  text: string,
  origin: string,
  dryRun: boolean,
): Promise<{ applied: number; workloads: WorkloadRef[] }> {
  const objects = parseManifest(text, origin);
  const client = await deps.client(access);
  return applyObjects(client, objects, {
    fieldManager: 'kubeha-mesh',
    dryRun,
    crdTimeoutMs: deps.crdTimeoutMs,
    pollIntervalMs: deps.pollIntervalMs,
    signal: cancellationSignal(),
  });
}

interface CrdObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

/** `linkerd install --crds`, applied unless every rendered CRD is there with the same version annotation. */
export async function installCrds(deps: InstallDeps, access: ClusterAccess, dryRun: boolean): Promise<InstallResult> {
  const { stdout } = await deps.cli.run(['install', '--crds', '--ignore-cluster'], { what: `linkerd install --crds for ${access.name}` });
  const objects = parseManifest(stdout, 'linkerd install --crds');
  const client = await deps.client(access);
  const differing: string[] = [];
  for (const { object } of objects) {
    if (object.kind !== 'CustomResourceDefinition') continue;
    const live = await client.find<CrdObject>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${object.metadata.name}`);
    const want = (object.metadata.annotations as Record<string, string> | undefined)?.['linkerd.io/created-by'];
    if (!live || live.metadata?.annotations?.['linkerd.io/created-by'] !== want) differing.push(object.metadata.name);
  }
  if (differing.length === 0)
    return { cluster: access.name, alreadyInstalled: true, applied: 0, workloads: [], note: `all ${objects.length} Linkerd CRDs present at this version` };
  const result = await applyRendered(deps, access, stdout, 'linkerd install --crds', dryRun);
  return {
    cluster: access.name,
    alreadyInstalled: false,
    ...result,
    note: `${dryRun ? 'would apply' : 'applied'} ${result.applied} objects (${differing.length} CRDs missing or older)`,
  };
}

/** The Helm values flags of the cluster's input (`--set k=v` each). */
function setFlags(set: string[]): string[] {
  return set.flatMap((s) => ['--set', s]);
}

/**
 * `linkerd install` with the pair's anchors and the cluster's issuer, unless the cluster already trusts
 * exactly these anchors, its issuer Secret holds this issuer and every rendered object is there (an
 * install cut short after the identity objects lacks the rest: then it is applied again).
 */
export async function installControlPlane(
  deps: InstallDeps,
  access: ClusterAccess,
  trust: TrustMaterial,
  set: string[],
  dryRun: boolean,
): Promise<InstallResult> {
  const client = await deps.client(access);
  const installed = await installedLinkerd(client);
  const issuer = trust.issuers[access.role];
  const anchorsMatch = installed.anchorFingerprints.join(',') === [...trust.anchorFingerprints].sort().join(',');
  const identityMatches = anchorsMatch && (await installedIssuerFingerprint(client)) === issuer.fingerprint;
  const files = {
    'anchors.crt': await deps.secrets.get(trust.anchorsSecret),
    'issuer.crt': await deps.secrets.get(issuer.certificateSecret),
    'issuer.key': await deps.secrets.get(issuer.keySecret),
  };
  const args = [
    'install',
    '--ignore-cluster',
    '--identity-trust-anchors-file',
    '{file:anchors.crt}',
    '--identity-issuer-certificate-file',
    '{file:issuer.crt}',
    '--identity-issuer-key-file',
    '{file:issuer.key}',
    ...setFlags(set),
  ];
  const { stdout } = await deps.cli.run(args, { what: `linkerd install for ${access.name}`, files });
  const missing = identityMatches ? await missingObjects(client, parseManifest(stdout, 'linkerd install')) : [];
  if (identityMatches && missing.length === 0) {
    return {
      cluster: access.name,
      alreadyInstalled: true,
      applied: 0,
      workloads: [],
      note: `Linkerd ${installed.version ?? ''} already trusts the pair's anchors with this issuer`.replace('  ', ' '),
    };
  }
  const result = await applyRendered(deps, access, stdout, 'linkerd install', dryRun);
  const why =
    installed.anchorFingerprints.length === 0
      ? 'fresh install'
      : identityMatches
        ? `${missing.length} objects missing: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}`
        : anchorsMatch
          ? 'issuer replaced'
          : 'anchors differed';
  return { cluster: access.name, alreadyInstalled: false, ...result, note: `${dryRun ? 'would apply' : 'applied'} ${result.applied} objects (${why})` };
}

/** The rendered objects the cluster lacks, as `Kind namespace/name` (a kind the server does not serve counts as missing). */
async function missingObjects(client: KubeClient, objects: ManifestObject[]): Promise<string[]> {
  const missing: string[] = [];
  for (const { object } of objects) {
    const copy = structuredClone(object);
    const found = await client.pathOf(copy).then(
      (at) => client.find(at),
      () => undefined,
    );
    if (!found) missing.push(`${object.kind} ${copy.metadata.namespace ? `${copy.metadata.namespace}/` : ''}${object.metadata.name}`);
  }
  return missing;
}

/** The fingerprint of the issuer certificate in Linkerd's issuer Secret, if any. */
async function installedIssuerFingerprint(client: KubeClient): Promise<string | undefined> {
  const secret = await client.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${LINKERD_NAMESPACE}/secrets/linkerd-identity-issuer`);
  const pem = secret?.data?.['tls.crt'] ?? secret?.data?.['crt.pem'];
  if (!pem) return undefined;
  try {
    return (await certificateFacts(parseCertificates(Buffer.from(pem, 'base64').toString('utf8'))[0])).fingerprint;
  } catch {
    return undefined;
  }
}

/** The anchors a cluster trusts now, as fingerprints (empty when Linkerd is absent). */
export async function installedAnchorFingerprints(client: KubeClient): Promise<string[]> {
  const pem = await installedAnchorsPem(client);
  return pem ? bundleFingerprints(pem) : [];
}

/**
 * `linkerd multicluster install`, with service mirror controllers for `controllersFor` (link-gen mode),
 * applied unless the extension's gateway and controllers are there at the CLI's version and every other
 * rendered object is there too.
 */
export async function installMulticluster(deps: InstallDeps, access: ClusterAccess, controllersFor: string[], dryRun: boolean): Promise<InstallResult> {
  const args = ['multicluster', 'install', ...controllersFor.flatMap((name, i) => ['--set', `controllers[${i}].link.ref.name=${name}`])];
  const { stdout } = await deps.cli.run(args, {
    what: `linkerd multicluster install for ${access.name}`,
    kubeconfigSecret: access.kubeconfigSecret,
    context: access.context,
  });
  const objects = parseManifest(stdout, 'linkerd multicluster install');
  const client = await deps.client(access);
  const workloads = objects
    .filter(({ object }) => object.apiVersion === 'apps/v1' && ['Deployment', 'DaemonSet', 'StatefulSet'].includes(object.kind))
    .map(({ object }) => ({
      kind: object.kind as WorkloadRef['kind'],
      namespace: object.metadata.namespace ?? MULTICLUSTER_NAMESPACE,
      name: object.metadata.name,
    }));
  const present = await Promise.all(
    workloads.map(async (w) => {
      const live = await client.find<{ metadata?: { labels?: Record<string, string> } }>(
        `/apis/apps/v1/namespaces/${w.namespace}/${w.kind.toLowerCase()}s/${w.name}`,
      );
      const want = objects.find((o) => o.object.metadata.name === w.name)?.object.metadata.labels as Record<string, string> | undefined;
      return live !== undefined && live.metadata?.labels?.[VERSION_LABEL] === want?.[VERSION_LABEL];
    }),
  );
  // Workloads at this version and nothing else missing (an apply cut short can leave the account and token behind).
  if (workloads.length > 0 && present.every(Boolean) && (await missingObjects(client, objects)).length === 0) {
    return {
      cluster: access.name,
      alreadyInstalled: true,
      applied: 0,
      workloads,
      note: `multicluster extension present (${workloads.map((w) => w.name).join(', ')})`,
    };
  }
  const result = await applyRendered(deps, access, stdout, 'linkerd multicluster install', dryRun);
  return { cluster: access.name, alreadyInstalled: false, ...result, note: `${dryRun ? 'would apply' : 'applied'} ${result.applied} objects` };
}
