/**
 * The `linkerd-multicluster` category of `linkerd multicluster check`, computed from the local cluster
 * and, through each Link's credentials, the linked one: Links, remote access, shared trust anchors
 * (compared certificate by certificate), service mirror controllers, mirror endpoints and orphans.
 * Left out (lab/README.md): RBAC of the controllers, gateway probe metrics and proxy checks.
 */
import { type X509Certificate } from 'node:crypto';
import { decodeCertificates } from './certs';
import type { Category, CheckOutcome } from './checks';
import { canI, type CheckedCluster, fetchValues, serverVersion } from './cluster';
import { clientForKubeconfig } from './kube';
import {
  CLUSTER_NAME_LABEL,
  CREATED_BY,
  CREDENTIALS_KEY,
  LINK_GROUP,
  LINK_VERSION,
  MIRRORED_GATEWAY_LABEL,
  MIRRORED_SERVICE_LABEL,
  REMOTE_DISCOVERY_LABEL,
  SERVICE_MIRROR_COMPONENTS,
} from './names';

/** A Link as the checks read it. */
export interface LinkObject {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { targetClusterName?: string; clusterCredentialsSecret?: string; targetClusterLinkerdNamespace?: string };
}

interface ServiceObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

const joinErrors = (errors: string[], depth: number) => errors.map((e) => `${'    '.repeat(depth)}${e}`).join('\n');
const listed = (names: string[]): CheckOutcome => (names.length ? { verbose: names.map((n) => `\t* ${n}`).join('\n') } : { skip: 'no links' });

/** The category, for `cliVersion`. */
export function multiclusterCategory(cluster: CheckedCluster, cliVersion: string): Category {
  let links: LinkObject[] = [];
  const target = (l: LinkObject) => l.spec?.targetClusterName ?? '';
  /** The linked cluster's client, from the Link's credentials Secret. */
  const remote = async (link: LinkObject) => {
    const ns = link.metadata?.namespace ?? '';
    const name = link.spec?.clusterCredentialsSecret ?? '';
    const secret = await cluster.client.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${ns}/secrets/${name}`);
    if (!secret) throw new Error(`* secret: [${ns}/${name}]: secrets "${name}" not found`);
    const config = secret.data?.[CREDENTIALS_KEY];
    if (!config)
      throw new Error(`* secret: [${ns}/${name}]: could not parse config secret: secret should contain target cluster name as annotation ${CREDENTIALS_KEY}`);
    return clientForKubeconfig(Buffer.from(config, 'base64').toString('utf8'), 10_000);
  };
  return {
    name: 'linkerd-multicluster',
    checkers: [
      {
        description: 'Link CRD exists',
        hintAnchor: 'l5d-multicluster-link-crd-exists',
        fatal: true,
        check: async () => {
          const res = await cluster.client.request('GET', `/apis/${LINK_GROUP}/${LINK_VERSION}`);
          const kinds = res.status === 200 ? ((res.body as { resources?: Array<{ kind?: string }> }).resources ?? []) : [];
          if (!kinds.some((r) => r.kind === 'Link')) throw new Error(`${LINK_GROUP}/Link CRD is missing: the server could not find the requested resource`);
        },
      },
      {
        description: 'Link resources are valid',
        hintAnchor: 'l5d-multicluster-links-are-valid',
        fatal: true,
        check: async () => {
          links = (await cluster.client.get<{ items?: LinkObject[] }>(`/apis/${LINK_GROUP}/${LINK_VERSION}/links`)).items ?? [];
          if (links.length === 0) return { skip: 'no links detected' };
          return listed(links.map(target));
        },
      },
      {
        description: 'Link and CLI versions match',
        hintAnchor: 'l5d-multicluster-links-version',
        warning: true,
        check: async () => {
          const errors = links.flatMap((l) => {
            const parts = (l.metadata?.annotations?.[CREATED_BY] ?? '').split(' ');
            if (parts.length !== 2 || parts[0] !== 'linkerd/cli') return [`* ${target(l)}: unable to determine version`];
            return parts[1] === cliVersion ? [] : [`* ${target(l)}: CLI version is ${cliVersion} but Link version is ${parts[1]}`];
          });
          if (errors.length) throw new Error(joinErrors(errors, 2));
          return listed(links.map(target));
        },
      },
      {
        description: 'remote cluster access credentials are valid',
        hintAnchor: 'l5d-smc-target-clusters-access',
        check: async () => {
          const errors: string[] = [];
          for (const link of links) {
            try {
              const client = await remote(link);
              await serverVersion(client).catch((err: Error) => {
                throw new Error(`* failed to connect to API for cluster: [${target(link)}]: ${err.message}`);
              });
              for (const verb of ['get', 'list', 'watch'])
                if (!(await canI(client, verb, '', 'services')))
                  errors.push(`* missing service permission [${verb}] for cluster [${target(link)}]: not authorized to access services`);
            } catch (err) {
              errors.push((err as Error).message);
            }
          }
          if (errors.length) throw new Error(joinErrors(errors, 2));
          return listed(links.map(target));
        },
      },
      {
        description: 'clusters share trust anchors',
        hintAnchor: 'l5d-multicluster-clusters-share-anchors',
        check: async () => {
          let local: X509Certificate[];
          try {
            local = decodeCertificates(cluster.values?.identityTrustAnchorsPEM ?? '');
          } catch (err) {
            throw new Error(`Cannot parse source trust anchors: ${(err as Error).message}`);
          }
          const errors: string[] = [];
          for (const link of links) {
            let theirs: X509Certificate[];
            try {
              const values = await fetchValues(await remote(link), link.spec?.targetClusterLinkerdNamespace ?? 'linkerd').catch((err: Error) => {
                throw new Error(`* ${target(link)}: unable to fetch anchors: ${err.message}`);
              });
              try {
                theirs = decodeCertificates(values.identityTrustAnchorsPEM ?? '');
              } catch {
                throw new Error(`* ${target(link)}: cannot parse trust anchors`);
              }
            } catch (err) {
              errors.push((err as Error).message);
              continue;
            }
            const same = theirs.length === local.length && theirs.every((r) => local.some((l) => l.raw.equals(r.raw)));
            if (!same) errors.push(`* ${target(link)}`);
          }
          if (errors.length) throw new Error(`Problematic clusters:\n    ${errors.join('\n    ')}`);
          return listed(links.map(target));
        },
      },
      {
        description: 'service mirror controllers are running',
        hintAnchor: 'l5d-multicluster-service-mirror-running',
        retry: true,
        check: async () => {
          const errors: string[] = [];
          for (const link of links) {
            const selector = encodeURIComponent(`component in (${SERVICE_MIRROR_COMPONENTS.join(', ')}),${CLUSTER_NAME_LABEL}=${target(link)}`);
            const list = await cluster.client.get<{
              items?: Array<{ metadata?: { name?: string; namespace?: string }; status?: { availableReplicas?: number } }>;
            }>(`/apis/apps/v1/deployments?labelSelector=${selector}`);
            const items = list.items ?? [];
            if (items.length > 1) errors.push(`* too many service mirror controller deployments for Link ${target(link)}`);
            else if (items.length === 0) errors.push(`* no service mirror controller deployment for Link ${target(link)}`);
            else if ((items[0].status?.availableReplicas ?? 0) < 1)
              errors.push(`* service mirror controller is not available: ${items[0].metadata?.namespace}/${items[0].metadata?.name}`);
          }
          if (errors.length) throw new Error(joinErrors(errors, 2));
          return listed(links.map(target));
        },
      },
      {
        description: 'all mirror services have endpoints',
        hintAnchor: 'l5d-multicluster-services-endpoints',
        check: async () => {
          const selector = encodeURIComponent(`${MIRRORED_SERVICE_LABEL},!${MIRRORED_GATEWAY_LABEL},!${REMOTE_DISCOVERY_LABEL}`);
          const services = (await cluster.client.get<{ items?: ServiceObject[] }>(`/api/v1/services?labelSelector=${selector}`)).items ?? [];
          if (services.length === 0) return { skip: 'no mirror services' };
          const without: string[] = [];
          for (const svc of services) {
            const ep = await cluster.client.find<{ subsets?: unknown[] }>(`/api/v1/namespaces/${svc.metadata?.namespace}/endpoints/${svc.metadata?.name}`);
            if (!ep?.subsets?.length)
              without.push(`${svc.metadata?.name}.${svc.metadata?.namespace} mirrored from cluster [${svc.metadata?.labels?.[CLUSTER_NAME_LABEL] ?? ''}]`);
          }
          if (without.length) throw new Error(`Some mirror services do not have endpoints:\n    ${without.join('\n    ')}`);
        },
      },
      {
        description: 'all mirror services are part of a Link',
        hintAnchor: 'l5d-multicluster-orphaned-services',
        warning: true,
        check: async () => {
          const selector = encodeURIComponent(`${MIRRORED_SERVICE_LABEL},!${MIRRORED_GATEWAY_LABEL},${CLUSTER_NAME_LABEL}`);
          const services = (await cluster.client.get<{ items?: ServiceObject[] }>(`/api/v1/services?labelSelector=${selector}`)).items ?? [];
          if (services.length === 0) return { skip: 'no mirror services' };
          const orphans = services
            .filter((s) => !links.some((l) => target(l) === s.metadata?.labels?.[CLUSTER_NAME_LABEL]))
            .map((s) => `mirror service ${s.metadata?.name}.${s.metadata?.namespace} is not part of any Link`);
          if (orphans.length) throw new Error(joinErrors(orphans, 1));
        },
      },
    ],
  };
}
