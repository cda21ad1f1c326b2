/**
 * The workflow inputs the lab writes: per cluster at `kubeha lab up` (`inputs/bootstrap-<cluster>.json`),
 * BootstrapStackedEtcd pointed at the lab's hosts (pinned host keys, the lab's client key), the lab's
 * AWS front, the cluster's moto subnets and the lab's CNI manifest, with timings that suit the lab;
 * and, once west and east are bootstrapped (lab/orchestrator/pair.ts), FailoverToEast for the pair and
 * the webhook's routing file that starts it, and LinkMeshClusters for the pair. Each is validated with kubeha's own schema before it is
 * written: the lab never hands kubeha an input it would refuse.
 */
import { webhookConfigSchema, type WebhookConfigFile } from '../../common/inputs/webhookRoutes';
import type { BootstrapStackedEtcdInput } from '../../common/inputs/bootstrapStackedEtcd';
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { failoverToEastInputSchema, type FailoverToEastInput } from '../../common/inputs/failoverToEast';
import { linkMeshClustersInputSchema, type LinkMeshClustersInput } from '../../common/inputs/linkMeshClusters';
import type { GtmRecordInput } from '../../common/inputs/gtm';
import { defaultKubeconfigSecret } from '../../common/inputs/rotateCertificateKey';
import type { HostSpec } from '../../common/inputs/shared';
import type { LabNetwork, LabStateHost } from './state';

/** The version the lab's apt emulation offers (1.37.0 to 1.37.<aptLatestPatch>) and the lab kubeadm builds. */
export const LAB_KUBERNETES_VERSION = '1.37.2';

/** What an input is made from. */
export interface LabInputSource {
  cluster: string;
  hosts: LabStateHost[];
  network: LabNetwork;
  awsEndpoint: string;
  clientKey: string;
  cniManifest: string;
  /** The lab's own label (topology hostsBlockLabel), when several labs share the machine. */
  labLabel?: string;
}

/**
 * The load balancer's name. moto derives the DNS name from it, and the lab maps DNS names in
 * /etc/hosts, so two labs on one machine need different names.
 */
export function loadBalancerName(cluster: string, labLabel?: string): string {
  if (!labLabel) return `kubeha-${cluster}-api`;
  const label = labLabel.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return `kh-${cluster}-${label}`.slice(0, 32).replace(/-+$/, '');
}

/** The BootstrapStackedEtcd input of one lab cluster (validated before it is returned). */
export function bootstrapInput(source: LabInputSource): BootstrapStackedEtcdInput {
  const input: BootstrapStackedEtcdInput = {
    clusterName: source.cluster,
    kubernetesVersion: LAB_KUBERNETES_VERSION,
    aws: { region: source.network.region, endpoint: source.awsEndpoint, subnetIds: source.network.subnetIds, vpcId: source.network.vpcId },
    loadBalancer: {
      name: loadBalancerName(source.cluster, source.labLabel),
      targetGroup: {
        // The lab's data plane runs health checks faster than configured (topology healthCheckIntervalScale).
        healthCheck: { intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 2 },
        healthyDeadlineSeconds: 120,
      },
    },
    hosts: source.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      role: h.role as 'control-plane' | 'spare-control-plane' | 'worker',
      ssh: { user: 'root', port: h.port, privateKey: { file: source.clientKey }, hostKeyFingerprint: h.hostKeyFingerprint, connectTimeoutSeconds: 5 },
    })),
    cni: { file: source.cniManifest, rolloutTimeoutSeconds: 120 },
  };
  // The lab must never hand kubeha an input it would refuse.
  bootstrapStackedEtcdInputSchema.parse(input);
  return input;
}

/** What the pair's FailoverToEast input is made from. */
export interface LabFailoverSource {
  west: string;
  east: string;
  /** West's BootstrapStackedEtcd input: its AWS settings and hosts (SSH settings included). */
  westBootstrap: BootstrapStackedEtcdInput;
  /** The target group of west's API load balancer. */
  targetGroupArn: string;
  /** The services east exports and west splits. */
  services: ReadonlyArray<{ namespace: string; name: string }>;
  /** The HTTPRoute apiVersion LinkMeshClusters wrote the split in (the newest the installed Linkerd serves). */
  splitApiVersion: 'policy.linkerd.io/v1beta2' | 'policy.linkerd.io/v1beta3' | 'gateway.networking.k8s.io/v1';
  /** West must be healthy this long after the alert resolved before traffic moves back. Default 30. */
  hysteresisSeconds?: number;
  /** Default `wait` (hold a failed step for an operator), as for any input a person starts. */
  onFailure?: 'wait' | 'fail';
  /** Route 53 for clients outside the mesh: the endpoint and each service's record pair (`namespace/name`). */
  gtm?: { endpoint: string; records: Record<string, GtmRecordInput> };
}

const byRole = <H extends { role: HostSpec['role'] }>(hosts: H[], role: HostSpec['role']) => hosts.filter((h) => h.role === role);

/**
 * FailoverToEast for the lab's pair: the kubeconfigs the bootstrap stored (`clusters/<cluster>/admin-kubeconfig`),
 * traffic in three verified steps (Route 53's weighted records and west's split), west's spare registered
 * when its control planes are unhealthy, RecoverControlPlane (with approval) when west's etcd lost
 * quorum, and a short hysteresis window (validated before it is returned).
 */
export function failoverInput(source: LabFailoverSource): FailoverToEastInput {
  const { westBootstrap: w } = source;
  const input: FailoverToEastInput = {
    west: { name: source.west, kubeconfigSecret: defaultKubeconfigSecret(source.west) },
    east: {
      name: source.east,
      kubeconfigSecret: defaultKubeconfigSecret(source.east),
      gateway: { namespace: 'linkerd-multicluster', service: 'linkerd-gateway' },
    },
    services: source.services.map((s) => {
      const gtm = source.gtm?.records[`${s.namespace}/${s.name}`];
      return { namespace: s.namespace, name: s.name, split: { kind: 'HTTPRoute', apiVersion: source.splitApiVersion }, ...(gtm ? { gtm } : {}) };
    }),
    ...(source.gtm ? { route53: { endpoint: source.gtm.endpoint } } : {}),
    steps: [25, 50, 100],
    stepPauseSeconds: 2,
    controlPlane: {
      aws: w.aws,
      targetGroupArn: source.targetGroupArn,
      controlPlanes: byRole(w.hosts, 'control-plane'),
      spares: byRole(w.hosts, 'spare-control-plane'),
      minHealthyTargets: 1,
      healthyDeadlineSeconds: 120,
      // West's etcd losing quorum starts RecoverControlPlane, which waits for an operator's approval.
      recover: 'approve',
      recovery: {
        cluster: w,
        precheck: { windowSeconds: 6, intervalSeconds: 2 },
        approval: { required: true, timeoutMinutes: 60 },
        rejoin: { waitMinutes: 60, pollSeconds: 3 },
        onFailure: source.onFailure ?? 'wait',
      },
    },
    failback: { hysteresisSeconds: source.hysteresisSeconds ?? 30, checkIntervalSeconds: 2, automatic: true },
    onFailure: source.onFailure ?? 'wait',
  };
  failoverToEastInputSchema.parse(input);
  return input;
}

/**
 * LinkMeshClusters for the lab's pair: both clusters through the pair's kubeconfig (contexts `west` and
 * `east`), trust made by kubeha, east's demo services exported, and west's split (HTTPRoute on the
 * lab's Linkerd) standing by at 100/0, with waits that suit the lab (validated before it is returned).
 */
export function linkMeshInput(source: {
  west: string;
  east: string;
  kubeconfigFile: string;
  services: ReadonlyArray<{ namespace: string; name: string }>;
}): LinkMeshClustersInput {
  const input: LinkMeshClustersInput = {
    west: { name: source.west, kubeconfig: { file: source.kubeconfigFile }, context: source.west },
    east: { name: source.east, kubeconfig: { file: source.kubeconfigFile }, context: source.east },
    services: source.services.map((s) => ({ namespace: s.namespace, name: s.name })),
    trafficSplit: { kind: 'auto', localWeight: 100, remoteWeight: 0 },
    timeouts: { checkSeconds: 180, checkIntervalSeconds: 2, rolloutSeconds: 180, mirrorSeconds: 120 },
  };
  linkMeshClustersInputSchema.parse(input);
  return input;
}

/** The alert that starts the lab pair's failover (labels the webhook route matches). */
export const LAB_FAILOVER_ALERT = { alertname: 'WestDown', severity: 'critical' } as const;

/**
 * `kubeha webhook --config` for the lab's pair: Bearer auth from a token file, a route from the lab's
 * alert on west to the pair's failover, and Alertmanager's Watchdog ignored (validated before it is returned).
 */
export function webhookRoutes(source: { failover: FailoverToEastInput; tokenFile: string; port?: number }): WebhookConfigFile {
  const west = source.failover.west.name;
  const config: WebhookConfigFile = {
    listen: { host: '127.0.0.1', port: source.port ?? 9095 },
    auth: { bearerToken: { file: source.tokenFile } },
    dedupeSeconds: 10,
    routes: [
      {
        name: `${west}-down`,
        matchers: [`alertname="${LAB_FAILOVER_ALERT.alertname}"`, 'severity=~"critical|page"', `cluster="${west}"`],
        action: 'failover',
        failover: source.failover,
      },
      { name: 'watchdog', matchers: ['alertname="Watchdog"'], action: 'ignore', reason: "Alertmanager's dead man's switch: nothing to do" },
    ],
  };
  webhookConfigSchema.parse(config);
  return config;
}
