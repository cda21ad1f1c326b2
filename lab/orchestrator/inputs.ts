/**
 * The workflow inputs `kubeha lab up` writes for each cluster (`inputs/bootstrap-<cluster>.json`):
 * BootstrapStackedEtcd pointed at the lab's hosts (pinned host keys, the lab's client key), the lab's
 * AWS front, the cluster's moto subnets and the lab's CNI manifest, with timings that suit the lab.
 */
import type { BootstrapStackedEtcdInput } from '../../common/inputs/bootstrapStackedEtcd';
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
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
function loadBalancerName(cluster: string, labLabel?: string): string {
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
