/**
 * The contracts of the mesh activities (LinkMeshClusters and `kubeha check mesh`). Everything here
 * crosses Temporal's history, so it holds no secret: kubeconfigs and private keys travel as secret
 * names the activities resolve through the worker's secret store. Type-only module: workflows import it.
 */
import type { ExportedService, MeshCluster, TrustInput } from '../../common/inputs/linkMeshClusters';
import type { LinkerdIssuerState } from '../../common/linkerdIssuer';
import type { SecretName, WorkloadRef } from '../types';

/** Which side of the pair a cluster is. */
export type MeshRole = 'west' | 'east';

/** A cluster as the activities reach it: a single-context kubeconfig kept in the secret store. */
export interface ClusterAccess {
  role: MeshRole;
  /** The cluster's mesh name (Link name, mirror suffix). */
  name: string;
  /** The context the kubeconfig was cut to. */
  context: string;
  /** The kubeconfig holding only that context, in the secret store. */
  kubeconfigSecret: SecretName;
  /** The API server URL, for messages. */
  server: string;
}

/** Input of `preflightMesh`: read-only checks of everything the input refers to, before any change. */
export interface PreflightMeshInput {
  pairName: string;
  west: MeshCluster;
  east: MeshCluster;
  trust: TrustInput;
}

/** What Linkerd already runs on a cluster, read through the API. */
export interface InstalledLinkerd {
  /** Fingerprints of the anchors in `linkerd-identity-trust-roots`, sorted; empty when Linkerd is absent. */
  anchorFingerprints: string[];
  /** The control plane's version (label `app.kubernetes.io/version` of linkerd-identity), when installed. */
  version?: string;
}

/** Result of `preflightMesh`. */
export interface PreflightMeshResult {
  west: ClusterAccess;
  east: ClusterAccess;
  installed: Record<MeshRole, InstalledLinkerd>;
  /** `linkerd version --client --short`, e.g. `edge-25.11.3`. */
  cliVersion: string;
}

/** One issuer, by secret names and public facts. */
export interface IssuerRef {
  certificateSecret: SecretName;
  keySecret: SecretName;
  fingerprint: string;
  notAfter: string;
}

/** The pair's trust material: names in the secret store and public facts. */
export interface TrustMaterial {
  anchorsSecret: SecretName;
  anchorFingerprints: string[];
  /** The earliest expiry among the anchors. */
  anchorsNotAfter: string;
  issuers: Record<MeshRole, IssuerRef>;
  /** What this call created or stored (empty on a second run). */
  created: string[];
  /** Anchors or issuers within 60 days of expiry. */
  warnings: string[];
}

/** Input of `ensureTrust`. */
export interface EnsureTrustInput {
  pairName: string;
  trust: TrustInput;
  dryRun?: boolean;
}

/** What an install step did. */
export interface InstallResult {
  cluster: string;
  /** True when the cluster already had it (and nothing was applied). */
  alreadyInstalled: boolean;
  applied: number;
  workloads: WorkloadRef[];
  /** Why it was skipped or what it applied, in words. */
  note: string;
}

/** Input of the control-plane install. */
export interface InstallControlPlaneInput {
  cluster: ClusterAccess;
  trust: TrustMaterial;
  /** Extra `--set key=value` for `linkerd install`. */
  set: string[];
  dryRun?: boolean;
}

/** Result of a check, in the style of `linkerd check`: √ ok, ‼ warning, × error. */
export type CheckStatus = 'ok' | 'warning' | 'error';

/** One check line. */
export interface MeshCheck {
  category: string;
  description: string;
  status: CheckStatus;
  /** Why it is not ok. */
  error?: string;
  /** A link or sentence on what to do. */
  hint?: string;
}

/** A set of check lines for one cluster. */
export interface MeshCheckReport {
  cluster: string;
  /** True when no check is an error (warnings allowed, as `linkerd check`). */
  healthy: boolean;
  checks: MeshCheck[];
}

/** Input of `meshCheck`. */
export interface MeshCheckInput {
  cluster: ClusterAccess;
  /** `core`: `linkerd check` and kubeha's identity checks; `multicluster`: `linkerd multicluster check`. */
  scope: 'core' | 'multicluster';
  /** When given, the anchors the cluster must trust (fingerprints). */
  expectedAnchors?: string[];
  /** Skip the linkerd CLI (kubeha's own checks only). */
  withoutCli?: boolean;
}

/** Input of the multicluster extension install. */
export interface InstallMulticlusterInput {
  cluster: ClusterAccess;
  /** Links whose service mirror controllers this cluster runs (link-gen mode, on west). */
  controllersFor: string[];
  dryRun?: boolean;
}

/** Input of `linkClusters`. */
export interface LinkClustersInput {
  west: ClusterAccess;
  east: ClusterAccess;
  command: 'auto' | 'link' | 'link-gen';
  apiServerAddress?: string;
  dryRun?: boolean;
}

/** Result of `linkClusters`. */
export interface LinkResult {
  command: 'link' | 'link-gen';
  alreadyLinked: boolean;
  applied: number;
  workloads: WorkloadRef[];
  /** The gateway addresses the Link holds. */
  gatewayAddresses: string[];
}

/** Input of `verifyLink`: multicluster check and gateways on west, kubeha's own link checks. */
export interface VerifyLinkInput {
  west: ClusterAccess;
  east: ClusterAccess;
  withoutCli?: boolean;
}

/** Input of `exportServices`. */
export interface ExportServicesInput {
  east: ClusterAccess;
  services: ExportedService[];
  dryRun?: boolean;
}

/** Result of `exportServices`. */
export interface ExportServicesResult {
  labelled: string[];
  alreadyExported: string[];
}

/** Where east's gateway is: its addresses as reported, and the IPs they resolve to. */
export interface GatewayAddress {
  /** IPs or hostnames from `status.loadBalancer.ingress` (or the Link's gatewayAddress). */
  reported: string[];
  /** IPs, hostnames resolved (AWS load balancers report only a hostname). */
  ips: string[];
  port?: number;
}

/** One mirror as verified on west. */
export interface MirrorStatus {
  service: string;
  mirror: string;
  exists: boolean;
  endpointIps: string[];
  /** True when the endpoints are exactly east's gateway IPs. */
  pointsAtGateway: boolean;
  message: string;
}

/** Input of `verifyMirrors` (a single look) and `waitMirrors` (until right or the deadline). */
export interface MirrorsInput {
  west: ClusterAccess;
  east: ClusterAccess;
  /** Empty: every Service east exports. */
  services: ExportedService[];
  timeoutSeconds?: number;
}

/** Result of the mirror verification. */
export interface MirrorsResult {
  gateway: GatewayAddress;
  mirrors: MirrorStatus[];
}

/** Input of `ensureTrafficSplit`. */
export interface TrafficSplitInput {
  west: ClusterAccess;
  eastName: string;
  services: ExportedService[];
  kind: 'auto' | 'smi' | 'httproute';
  localWeight: number;
  remoteWeight: number;
  /** The control plane's version, for `auto`. */
  linkerdVersion?: string;
  dryRun?: boolean;
}

/** Result of `ensureTrafficSplit`. */
export interface TrafficSplitResult {
  kind: 'smi' | 'httproute';
  apiVersion: string;
  applied: string[];
}

/** Input of `meshIssuerExpiry`: a read-only look at one cluster's installed issuer. */
export interface IssuerExpiryInput {
  /** The LinkMeshClusters pair: its stored kubeconfig for `role` reaches the cluster, its store holds the anchor. */
  pairName: string;
  role: MeshRole;
  /** The cluster's name, for messages. */
  cluster: string;
  /** Due (and warned about) when the issuer expires within this many days. */
  thresholdDays: number;
}

/**
 * One cluster's installed issuer: when it expires and whether kubeha can renew it (the facts the
 * report reads, common/linkerdIssuer.ts), with the cluster and the certificate's fingerprint. Public facts only.
 */
export interface IssuerExpiry extends LinkerdIssuerState {
  cluster: string;
  fingerprint?: string;
}

/** Input of `renewMeshIssuer`. */
export interface RenewIssuerInput extends IssuerExpiryInput {
  /** Validity of a new issuer (capped at the anchor's expiry). */
  validityHours: number;
}

/** What `renewMeshIssuer` found and did. */
export interface RenewIssuerResult {
  cluster: string;
  /** The issuer Secret got a new issuer in this call. */
  secretWritten: boolean;
  /** The role's issuer in the secret store was replaced in this call. */
  stored: boolean;
  /** linkerd-identity's pod template got a new restartedAt annotation in this call. */
  restarted: boolean;
  /** The issuer installed now. */
  fingerprint: string;
  notAfter: string;
  /** The Deployment whose rollout the caller waits for, and the kubeconfig that reaches it. */
  workload: WorkloadRef;
  kubeconfigSecret: SecretName;
}

/** The mesh activities (created by `createMeshActivities`). */
export interface MeshActivities {
  preflightMesh(input: PreflightMeshInput): Promise<PreflightMeshResult>;
  ensureTrust(input: EnsureTrustInput): Promise<TrustMaterial>;
  installLinkerdCrds(input: { cluster: ClusterAccess; dryRun?: boolean }): Promise<InstallResult>;
  installControlPlane(input: InstallControlPlaneInput): Promise<InstallResult>;
  meshCheck(input: MeshCheckInput): Promise<MeshCheckReport>;
  installMulticluster(input: InstallMulticlusterInput): Promise<InstallResult>;
  linkClusters(input: LinkClustersInput): Promise<LinkResult>;
  verifyLink(input: VerifyLinkInput): Promise<MeshCheckReport>;
  exportServices(input: ExportServicesInput): Promise<ExportServicesResult>;
  verifyMirrors(input: MirrorsInput): Promise<MirrorsResult>;
  waitMirrors(input: MirrorsInput): Promise<MirrorsResult>;
  ensureTrafficSplit(input: TrafficSplitInput): Promise<TrafficSplitResult>;
  /** Read-only: the installed issuer's expiry, and whether kubeha could renew it. */
  meshIssuerExpiry(input: IssuerExpiryInput): Promise<IssuerExpiry>;
  /** A new issuer from the stored anchor when the installed one is due, then linkerd-identity restarted; no-op when done. */
  renewMeshIssuer(input: RenewIssuerInput): Promise<RenewIssuerResult>;
}
