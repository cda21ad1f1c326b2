/**
 * `linkerd install`: validates the identity files the way the CLI does (issuer key, validity, algorithm,
 * CA, chain to the anchors) and renders the control-plane chart's objects that carry identity and
 * state: the namespace, `linkerd-config` (its `values`, keys removed), the trust roots, the issuer
 * Secret (`linkerd.io/tls` scheme: `crt.pem`/`key.pem`), and the identity, destination and
 * proxy-injector Services, ServiceAccounts and Deployments. RBAC, webhooks and policy objects are not
 * rendered (lab/README.md).
 */
import { stringify } from 'yaml';
import { algorithmError, chainError, decodeCertificates, keyError, validityError } from './certs';
import { applySet, type RenderedObject, meta } from './manifest';
import {
  CONFIG_MAP,
  CONTROL_PLANE_COMPONENT_LABEL,
  CONTROL_PLANE_COMPONENTS,
  CONTROL_PLANE_NS_LABEL,
  CREATED_BY,
  createdBy,
  ISSUER_CRT_KEY,
  ISSUER_KEY_KEY,
  ISSUER_SCHEME,
  ISSUER_SECRET,
  TRUST_DOMAIN,
  TRUST_ROOTS_CONFIG_MAP,
  TRUST_ROOTS_KEY,
} from './names';

/** What `linkerd install` is given. */
export interface InstallInput {
  namespace: string;
  version: string;
  anchorsPem: string;
  issuerCrtPem: string;
  issuerKeyPem: string;
  /** `--set key=value`, in order. */
  set: string[];
  now?: Date;
}

/** An identity file the CLI refuses; the message is the CLI's. */
export class IssuerCredentialsError extends Error {
  constructor(message: string) {
    super(`failed to validate issuer credentials: ${message}`);
    this.name = 'IssuerCredentialsError';
  }
}

/** The CLI's checks of the issuer it is given (issuercerts VerifyAndBuildCreds). */
export function validateIssuer(input: Pick<InstallInput, 'anchorsPem' | 'issuerCrtPem' | 'issuerKeyPem' | 'now'>): void {
  const now = input.now ?? new Date();
  let issuer;
  try {
    [issuer] = decodeCertificates(input.issuerCrtPem);
  } catch (err) {
    throw new IssuerCredentialsError(`failed to read CA: ${(err as Error).message}`);
  }
  const key = keyError(issuer, input.issuerKeyPem);
  if (key) throw new IssuerCredentialsError(`failed to read CA: ${key}`);
  const problem = validityError(issuer, now) ?? algorithmError(issuer, 'issuer') ?? (issuer.ca ? undefined : 'issuer cert is not a CA');
  if (problem) throw new IssuerCredentialsError(problem);
  let anchors;
  try {
    anchors = decodeCertificates(input.anchorsPem);
  } catch (err) {
    throw new IssuerCredentialsError((err as Error).message);
  }
  const chain = chainError(issuer, anchors, now);
  if (chain) throw new IssuerCredentialsError(chain);
}

/** The chart values the CLI stores in `linkerd-config` (the issuer key removed, as the chart does). */
export function installValues(input: InstallInput): Record<string, unknown> {
  const values: Record<string, unknown> = {
    cliVersion: createdBy(input.version),
    linkerdVersion: input.version,
    clusterDomain: TRUST_DOMAIN,
    identityTrustDomain: TRUST_DOMAIN,
    identityTrustAnchorsPEM: input.anchorsPem.trim(),
    controllerReplicas: 1,
    identity: { issuer: { scheme: ISSUER_SCHEME, issuanceLifetime: '24h0m0s', clockSkewAllowance: '20s', tls: { crtPEM: input.issuerCrtPem.trim() } } },
    proxy: { image: { name: 'cr.l5d.io/linkerd/proxy', version: input.version } },
    controllerImage: 'cr.l5d.io/linkerd/controller',
  };
  for (const assignment of input.set) applySet(values, assignment);
  return values;
}

const b64 = (text: string) => Buffer.from(text.trim(), 'utf8').toString('base64');

/** One control-plane component: Service, ServiceAccount, Deployment. */
function component(name: (typeof CONTROL_PLANE_COMPONENTS)[number], ns: string, version: string, replicas: number, port: number): RenderedObject[] {
  const objectName = `linkerd-${name}`;
  const selector = { [CONTROL_PLANE_COMPONENT_LABEL]: name, [CONTROL_PLANE_NS_LABEL]: ns };
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'Linkerd', 'app.kubernetes.io/version': version, ...selector };
  const annotations = { [CREATED_BY]: createdBy(version) };
  const serviceName = name === 'destination' ? 'linkerd-dst' : objectName;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(objectName, ns, selector) },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(serviceName, ns, selector, annotations),
      spec: { type: 'ClusterIP', selector: { [CONTROL_PLANE_COMPONENT_LABEL]: name }, ports: [{ name: 'grpc', port, targetPort: port }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(objectName, ns, labels, annotations),
      spec: {
        replicas,
        selector: { matchLabels: { ...selector, 'linkerd.io/proxy-deployment': objectName } },
        template: {
          metadata: {
            annotations: { ...annotations, 'linkerd.io/proxy-version': version },
            labels: { ...selector, 'linkerd.io/proxy-deployment': objectName, 'linkerd.io/workload-ns': ns },
          },
          spec: {
            serviceAccountName: objectName,
            containers: [
              { name, image: `cr.l5d.io/linkerd/controller:${version}`, args: [name], ports: [{ name: 'grpc', containerPort: port }] },
              { name: 'linkerd-proxy', image: `cr.l5d.io/linkerd/proxy:${version}`, ports: [{ name: 'linkerd-proxy', containerPort: 4143 }] },
            ],
          },
        },
      },
    },
  ];
}

const PORTS: Record<(typeof CONTROL_PLANE_COMPONENTS)[number], number> = { identity: 8080, destination: 8086, 'proxy-injector': 8443 };

/** What `linkerd install` prints, after {@link validateIssuer}. */
export function renderControlPlane(input: InstallInput): RenderedObject[] {
  validateIssuer(input);
  const ns = input.namespace;
  const values = installValues(input);
  const annotations = { [CREATED_BY]: createdBy(input.version) };
  const identityLabels = { [CONTROL_PLANE_COMPONENT_LABEL]: 'identity', [CONTROL_PLANE_NS_LABEL]: ns };
  const replicas = typeof values.controllerReplicas === 'number' ? values.controllerReplicas : 1;
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: meta(
        ns,
        undefined,
        {
          'linkerd.io/is-control-plane': 'true',
          'config.linkerd.io/admission-webhooks': 'disabled',
          [CONTROL_PLANE_NS_LABEL]: ns,
          'pod-security.kubernetes.io/enforce': 'privileged',
        },
        { 'linkerd.io/inject': 'disabled' },
      ),
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(CONFIG_MAP, ns, { [CONTROL_PLANE_COMPONENT_LABEL]: 'controller', [CONTROL_PLANE_NS_LABEL]: ns }, annotations),
      data: { 'linkerd-crds-chart-version': 'linkerd-crds-1.0.0-edge', values: stringify(values, { lineWidth: 0 }) },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(ISSUER_SECRET, ns, identityLabels, annotations),
      data: { [ISSUER_CRT_KEY]: b64(input.issuerCrtPem), [ISSUER_KEY_KEY]: b64(input.issuerKeyPem) },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(TRUST_ROOTS_CONFIG_MAP, ns, identityLabels, annotations),
      data: { [TRUST_ROOTS_KEY]: input.anchorsPem.trim() },
    },
    ...CONTROL_PLANE_COMPONENTS.flatMap((name) => component(name, ns, input.version, replicas, PORTS[name])),
  ];
}
