/**
 * The contracts between workflows and activities: what each activity takes and returns.
 * Everything here crosses Temporal's history, so it holds no secret: secrets travel as
 * {@link SecretName}s that activities resolve through the worker's secret store.
 * Type-only module: workflows import it.
 */
import type { AwsSettings, HostSpec } from '../common/inputs/shared';
import type { HealthCheckSettings, LoadBalancerSettings } from '../common/inputs/bootstrapStackedEtcd';

/**
 * The name of a secret in the worker's secret store, e.g. `clusters/prod/certificate-key`.
 * History holds the name; only activities ever see the value.
 */
export type SecretName = string;

// ---------------------------------------------------------------- AWS (activities/aws)

/** Input of `ensureLoadBalancer`. */
export interface EnsureLoadBalancerInput {
  clusterName: string;
  aws: AwsSettings;
  loadBalancer: LoadBalancerSettings;
  dryRun?: boolean;
}

/** What the load balancer is, and what kubeha created this time (so a second run reports nothing created). */
export interface LoadBalancerInfo {
  loadBalancerArn: string;
  dnsName: string;
  targetGroupArn: string;
  listenerArn: string;
  /** True when kubeha created it (tagged `kubeha:cluster`); false when adopted or already there. */
  created: { loadBalancer: boolean; targetGroup: boolean; listener: boolean };
  /** What the step found it had to do or not, in words, for progress. */
  notes: string[];
}

/** Identifies one IP target of the API's target group. */
export interface TargetRef {
  aws: AwsSettings;
  targetGroupArn: string;
  ip: string;
  /** Defaults to 6443. */
  port?: number;
}

/** The states DescribeTargetHealth reports. */
export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';

/** One row of DescribeTargetHealth. */
export interface TargetHealth {
  ip: string;
  port: number;
  state: TargetState;
  reason?: string;
  description?: string;
}

/** Input of `waitTargetHealthy`: polls with heartbeats until healthy or the deadline. */
export interface WaitTargetHealthyInput extends TargetRef {
  /** Fail with DeadlineExceeded after this many seconds of not being healthy. */
  deadlineSeconds: number;
  /** Seconds between polls. */
  pollSeconds?: number;
}

/** The AWS activities (created by `createAwsActivities`). */
export interface AwsActivities {
  ensureLoadBalancer(input: EnsureLoadBalancerInput): Promise<LoadBalancerInfo>;
  /** The load balancer ensureLoadBalancer made, or null; creates nothing (`dryRun` is ignored). */
  findLoadBalancer(input: EnsureLoadBalancerInput): Promise<LoadBalancerInfo | null>;
  /** Registers the target unless it already is. Returns whether it had to. */
  registerTarget(input: TargetRef): Promise<{ registered: boolean }>;
  /** Deregisters the target if it is registered. Returns whether it had to. */
  deregisterTarget(input: TargetRef): Promise<{ deregistered: boolean }>;
  describeTargetHealth(input: { aws: AwsSettings; targetGroupArn: string }): Promise<TargetHealth[]>;
  waitTargetHealthy(input: WaitTargetHealthyInput): Promise<{ state: TargetState; waitedSeconds: number }>;
}

// ---------------------------------------------------------------- hosts over SSH (activities/hosts)

/** Input of `prepareHost`. */
export interface PrepareHostInput {
  host: HostSpec;
  kubernetesVersion: string;
  dryRun?: boolean;
}

/** What `prepareHost` found and changed. An empty `changed` means the host was already prepared. */
export interface PrepareHostResult {
  host: string;
  changed: string[];
  alreadyPrepared: string[];
  /** The host is a node at the requested version already: preparation left it alone. */
  joined?: boolean;
}

/** Input of `kubeadmInit` on the primary control-plane host. */
export interface KubeadmInitInput {
  clusterName: string;
  host: HostSpec;
  /** `dns-name:6443` of the load balancer. */
  controlPlaneEndpoint: string;
  kubernetesVersion: string;
  podCidr: string;
  serviceCidr: string;
  dryRun?: boolean;
}

/**
 * Join data kept for later steps. Token and certificate key stay in the secret store;
 * their names and expiry times are safe to keep in history.
 */
export interface JoinCredentials {
  /** `sha256:<hex>` of the cluster CA's public key. Not secret. */
  caCertHash: string;
  tokenSecret: SecretName;
  tokenExpiresAt: string;
  certificateKeySecret: SecretName;
  /** When the uploaded certificates (Secret kube-system/kubeadm-certs) are deleted: upload time + 2 h. */
  certificateKeyExpiresAt: string;
}

/** Result of `kubeadmInit`. */
export interface KubeadmInitResult {
  /** True when the cluster already existed and init was not run again. */
  alreadyInitialized: boolean;
  join: JoinCredentials;
  /** The admin kubeconfig, in the secret store. Its server is the load balancer endpoint. */
  kubeconfigSecret: SecretName;
}

/** Input of `refreshJoinCredentials`: renew the token and/or re-upload certificates on a healthy control plane. */
export interface RefreshJoinCredentialsInput {
  clusterName: string;
  /** A control-plane host that is already part of the cluster. */
  host: HostSpec;
  current: JoinCredentials;
  refreshToken: boolean;
  refreshCertificateKey: boolean;
}

/** Input of `kubeadmJoin`. */
export interface KubeadmJoinInput {
  clusterName: string;
  host: HostSpec;
  /** control-plane and spare-control-plane join with `--control-plane`. */
  controlPlane: boolean;
  controlPlaneEndpoint: string;
  join: JoinCredentials;
  kubeconfigSecret: SecretName;
  /** A control-plane host already in the cluster, to repair a stale etcd member through. */
  repairVia: HostSpec;
  dryRun?: boolean;
}

/** Result of `kubeadmJoin`. */
export interface KubeadmJoinResult {
  host: string;
  /** True when the node was already in the cluster (Node object and, for control planes, etcd member). */
  alreadyJoined: boolean;
  /** True when a half-done join was repaired first (stale etcd member removed, `kubeadm reset -f`). */
  repaired: boolean;
}

/** One etcd member as `etcdctl member list` and `endpoint health` see it. */
export interface EtcdMember {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
  healthy: boolean;
}

/** The host activities (created by `createHostActivities`). */
export interface HostActivities {
  prepareHost(input: PrepareHostInput): Promise<PrepareHostResult>;
  kubeadmInit(input: KubeadmInitInput): Promise<KubeadmInitResult>;
  /**
   * The initialised cluster as kubeadmInit left it, or null when the primary is not a Node or the
   * admin kubeconfig is not stored. Runs and uploads nothing: join credentials that are not reusable
   * come back expired, so the joining step refreshes them (certificate keys under the cluster lock).
   */
  findInitialized(input: Pick<KubeadmInitInput, 'clusterName' | 'host'>): Promise<KubeadmInitResult | null>;
  refreshJoinCredentials(input: RefreshJoinCredentialsInput): Promise<JoinCredentials>;
  kubeadmJoin(input: KubeadmJoinInput): Promise<KubeadmJoinResult>;
  /** Lists etcd members through a control-plane host, with health. */
  etcdMembers(input: { host: HostSpec }): Promise<EtcdMember[]>;
}

// ---------------------------------------------------------------- Kubernetes API (activities/kubernetes)

/** Where a manifest comes from. */
export type ManifestSource = { url: string } | { file: string } | { inline: string };

/** Input of `applyManifest`: server-side apply of every object in the manifest. */
export interface ApplyManifestInput {
  kubeconfigSecret: SecretName;
  source: ManifestSource;
  /** Field manager for server-side apply. Defaults to `kubeha`. */
  fieldManager?: string;
  dryRun?: boolean;
}

/** Workloads found in an applied manifest, to wait for. */
export interface WorkloadRef {
  kind: 'Deployment' | 'DaemonSet' | 'StatefulSet';
  namespace: string;
  name: string;
}

/** Result of `applyManifest`. */
export interface ApplyManifestResult {
  applied: number;
  workloads: WorkloadRef[];
}

/** Node as kubeha reports it. */
export interface NodeStatus {
  name: string;
  ready: boolean;
  controlPlane: boolean;
  kubeletVersion?: string;
  /** Reason the Ready condition gives, when not ready. */
  reason?: string;
}

/** The Kubernetes activities (created by `createKubernetesActivities`). */
export interface KubernetesActivities {
  applyManifest(input: ApplyManifestInput): Promise<ApplyManifestResult>;
  /** Waits (heartbeating) until every workload is rolled out, or fails with NotReady/DeadlineExceeded. */
  waitRollout(input: { kubeconfigSecret: SecretName; workloads: WorkloadRef[]; timeoutSeconds: number }): Promise<void>;
  listNodes(input: { kubeconfigSecret: SecretName }): Promise<NodeStatus[]>;
  /** Waits (heartbeating) until the node exists and is Ready. */
  waitNodeReady(input: { kubeconfigSecret: SecretName; nodeName: string; timeoutSeconds: number }): Promise<NodeStatus>;
  /** GET /readyz through the kubeconfig's server (the load balancer); returns the HTTP status and body. */
  apiReady(input: { kubeconfigSecret: SecretName }): Promise<{ ok: boolean; status: number; body: string }>;
  /**
   * Writes ConfigMap kube-system/kubeha-write-probe (a fresh nonce, server-side apply) and reads it back
   * through the kubeconfig's server: proof that the API serves writes. Returns the store revision it got.
   */
  writeReadProbe(input: { kubeconfigSecret: SecretName; purpose: string }): Promise<{ resourceVersion: number }>;
}

/** Health-check settings re-exported for activity implementations. */
export type { HealthCheckSettings };
