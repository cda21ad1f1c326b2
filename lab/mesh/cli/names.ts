/**
 * Linkerd's own names, as its charts, CLI and health checks spell them (learnt from the linkerd2
 * sources and linkerd.io docs). Spelled here, never imported from kubeha: a wrong name in kubeha must
 * not be mirrored by the lab.
 */

/** The release the lab CLI answers as (`linkerd version --client --short`). */
export const LAB_LINKERD_VERSION = 'edge-25.11.3';

/** The control plane's default namespace (`--linkerd-namespace` / `-L`). */
export const CONTROL_PLANE_NAMESPACE = 'linkerd';
/** The multicluster extension's namespace. */
export const MULTICLUSTER_NAMESPACE = 'linkerd-multicluster';

/** Identity objects of the control-plane chart. */
export const CONFIG_MAP = 'linkerd-config';
export const TRUST_ROOTS_CONFIG_MAP = 'linkerd-identity-trust-roots';
export const TRUST_ROOTS_KEY = 'ca-bundle.crt';
export const ISSUER_SECRET = 'linkerd-identity-issuer';
/** The issuer Secret's keys under the default `linkerd.io/tls` scheme (the CLI's `--identity-issuer-*-file`). */
export const ISSUER_CRT_KEY = 'crt.pem';
export const ISSUER_KEY_KEY = 'key.pem';
export const ISSUER_SCHEME = 'linkerd.io/tls';
export const TRUST_DOMAIN = 'cluster.local';

/** The control-plane components the lab renders, by their `linkerd.io/control-plane-component` label. */
export const CONTROL_PLANE_COMPONENTS = ['identity', 'destination', 'proxy-injector'] as const;

/** Labels and annotations. */
export const CREATED_BY = 'linkerd.io/created-by';
export const CONTROL_PLANE_NS_LABEL = 'linkerd.io/control-plane-ns';
export const CONTROL_PLANE_COMPONENT_LABEL = 'linkerd.io/control-plane-component';
export const EXTENSION_LABEL = 'linkerd.io/extension';
export const MULTICLUSTER_EXTENSION = 'multicluster';

/** The service mirror's labels and annotations (`mirror.linkerd.io/...`). */
export const EXPORTED_LABEL = 'mirror.linkerd.io/exported';
export const MIRRORED_SERVICE_LABEL = 'mirror.linkerd.io/mirrored-service';
export const MIRRORED_GATEWAY_LABEL = 'mirror.linkerd.io/mirrored-gateway';
export const REMOTE_DISCOVERY_LABEL = 'mirror.linkerd.io/remote-discovery';
export const CLUSTER_NAME_LABEL = 'mirror.linkerd.io/cluster-name';
export const GATEWAY_IDENTITY_ANNOTATION = 'mirror.linkerd.io/gateway-identity';
export const PROBE_PATH_ANNOTATION = 'mirror.linkerd.io/probe-path';
export const PROBE_PERIOD_ANNOTATION = 'mirror.linkerd.io/probe-period';
export const MULTICLUSTER_GATEWAY_ANNOTATION = 'mirror.linkerd.io/multicluster-gateway';
/** The prefix of every service-mirror label and annotation; mirrors never copy labels under it. */
export const SVC_MIRROR_PREFIX = 'mirror.linkerd.io';
/** Annotations the service mirror writes on mirrors and their Endpoints. */
export const REMOTE_RESOURCE_VERSION_ANNOTATION = 'mirror.linkerd.io/remote-resource-version';
export const REMOTE_SVC_FQ_NAME_ANNOTATION = 'mirror.linkerd.io/remote-svc-fq-name';
export const REMOTE_GATEWAY_IDENTITY_ANNOTATION = 'mirror.linkerd.io/remote-gateway-identity';
/** The `controllerName` of the Link's `status.mirrorServices[]` entries. */
export const SERVICE_MIRROR_CONTROLLER_NAME = 'linkerd.io/service-mirror';

/** The gateway: Service and Deployment name, ports by name. */
export const GATEWAY_NAME = 'linkerd-gateway';
export const GATEWAY_PORT_NAME = 'mc-gateway';
export const GATEWAY_PORT = 4143;
export const PROBE_PORT_NAME = 'mc-probe';
export const PROBE_PORT = 4191;
export const PROBE_PATH = '/ready';
export const PROBE_SECONDS = 3;

/** The service account east hands to west's service mirror, and its token Secret. */
export const REMOTE_ACCESS_ACCOUNT = 'linkerd-service-mirror-remote-access-default';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
/** The Link's credentials Secret: type and key of the kubeconfig it holds. */
export const CREDENTIALS_SECRET_TYPE = 'mirror.linkerd.io/remote-kubeconfig';
export const CREDENTIALS_KEY = 'kubeconfig';
/** Labels and annotations of the destination controller's copy of the credentials. */
export const LINK_CLUSTER_NAME_LABEL = 'multicluster.linkerd.io/cluster-name';
export const LINK_TRUST_DOMAIN_ANNOTATION = 'multicluster.linkerd.io/trust-domain';
export const LINK_CLUSTER_DOMAIN_ANNOTATION = 'multicluster.linkerd.io/cluster-domain';

/** The Link custom resource. */
export const LINK_GROUP = 'multicluster.linkerd.io';
export const LINK_VERSION = 'v1alpha3';
/** `component` values of service mirror controllers: `link` (legacy) and the chart's `controllers[]`. */
export const SERVICE_MIRROR_COMPONENTS = ['service-mirror', 'controller'] as const;

/** Where `linkerd check` hints point (edge releases use the unversioned docs). */
export const HINT_BASE = 'https://linkerd.io/2/checks/#';

/** `linkerd.io/created-by` on what the CLI renders. */
export function createdBy(version: string): string {
  return `linkerd/cli ${version}`;
}
