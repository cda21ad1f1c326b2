/**
 * What the checks read from a cluster, shared by `check` and `multicluster check`: the client (made by
 * the first check, as the CLI initialises it), Linkerd's stored values, access reviews.
 */
import { parse } from 'yaml';
import { ApiError, type KubeClient } from '../../kube/client';
import { notFound, openCluster, type KubeSelection } from './kube';
import { CONFIG_MAP } from './names';

/** Linkerd's chart values as `linkerd-config` stores them (the fields the lab reads). */
export interface LinkerdValues {
  linkerdVersion?: string;
  cliVersion?: string;
  clusterDomain?: string;
  identityTrustDomain?: string;
  identityTrustAnchorsPEM?: string;
  identity?: { issuer?: { scheme?: string } };
}

/** A cluster as a check run sees it: lazily connected, values read once. */
export class CheckedCluster {
  private clientValue?: KubeClient;
  values?: LinkerdValues;

  constructor(
    readonly selection: KubeSelection,
    readonly namespace: string,
  ) {}

  /** "can initialize the client": reads the kubeconfig. */
  connect(): void {
    this.clientValue = openCluster(this.selection);
  }

  get client(): KubeClient {
    if (!this.clientValue) this.connect();
    return this.clientValue as KubeClient;
  }

  /** Reads `linkerd-config` and its values; throws client-go's NotFound text when missing. */
  async readValues(): Promise<LinkerdValues> {
    this.values = await fetchValues(this.client, this.namespace);
    return this.values;
  }
}

/** healthcheck.FetchCurrentConfiguration: the values of a cluster's `linkerd-config`. */
export async function fetchValues(client: KubeClient, namespace: string): Promise<LinkerdValues> {
  const cm = await client.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${namespace}/configmaps/${CONFIG_MAP}`);
  if (!cm) throw new Error(notFound('configmaps', CONFIG_MAP));
  return (parse(cm.data?.values ?? '') ?? {}) as LinkerdValues;
}

/** A SelfSubjectAccessReview: may the CLI's user do `verb` on `resource`? */
export async function canI(client: KubeClient, verb: string, group: string, resource: string, namespace = ''): Promise<boolean> {
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { namespace, verb, group, resource } },
  };
  const answer = await client.create<{ status?: { allowed?: boolean } }>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', review);
  return answer.status?.allowed === true;
}

/** The server's version as `[major, minor, patch]` from `/version`. */
export async function serverVersion(client: KubeClient): Promise<{ gitVersion: string; parts: number[] }> {
  const info = await client.get<{ gitVersion?: string }>('/version');
  const gitVersion = info.gitVersion ?? '';
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(gitVersion);
  if (!m) throw new Error(`could not parse version ${gitVersion}`);
  return { gitVersion, parts: [Number(m[1]), Number(m[2]), Number(m[3])] };
}

export { ApiError };
