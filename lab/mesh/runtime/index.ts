/**
 * The lab's mesh runtime for the west/east pair: what would run on real clusters once Linkerd
 * multicluster is installed and linked, and that the lab's API servers alone do not do:
 * - the cloud controller's service load balancers on both clusters (cloudLoadBalancers.ts);
 * - east's gateway data plane on its load balancer address (gateway.ts);
 * - west's service mirror controller for every Link (lab/mesh/mirror).
 * One pass a second; a failing pass is logged and the next one tries again. The lab supervisor process
 * (lab/orchestrator/meshSupervisor.ts) runs it for `kubeha lab kubeconfig`.
 */
import { KubeClient } from '../../kube/client';
import { parseKubeconfig } from '../../kube/kubeconfig';
import { syncMirrors } from '../mirror/sync';
import { startPollLoop } from '../pollLoop';
import { syncServiceLoadBalancers } from './cloudLoadBalancers';
import { type GatewayBackend, LabGateway } from './gateway';
import { addLoopbackAddress, removeLoopbackAddress } from './loopback';

/** One cluster of the pair as the runtime reaches it. */
export interface LabMeshCluster {
  /** An admin kubeconfig (text) whose current context is the cluster. */
  kubeconfig: string;
  /** The cluster's /16 VPC, where its service load balancer addresses come from. */
  vpcCidr: string;
}

/** Options of {@link startLabMeshRuntime}. */
export interface LabMeshRuntimeOptions {
  west: LabMeshCluster;
  east: LabMeshCluster;
  /** The process behind east's exported service, where the gateway forwards. */
  gatewayBackend: GatewayBackend;
  intervalMs?: number;
  log?: (line: string) => void;
}

/** A running runtime. */
export interface LabMeshRuntime {
  /** Resolves after the next complete pass (errors included in its result). */
  nextPass(): Promise<string[]>;
  /** The addresses it added to lo. */
  addresses(): string[];
  stop(): Promise<void>;
}

const client = (kubeconfig: string) => new KubeClient(parseKubeconfig(kubeconfig), 10_000);
const quiet = (err: unknown) => /ECONNREFUSED|connection refused|socket hang up|ECONNRESET|Client.Timeout/.test((err as Error).message);

/** Starts the loop; the first pass starts at once. */
export function startLabMeshRuntime(options: LabMeshRuntimeOptions): LabMeshRuntime {
  const log = options.log ?? (() => undefined);
  const west = client(options.west.kubeconfig);
  const east = client(options.east.kubeconfig);
  const gateway = new LabGateway(options.gatewayBackend, log);
  const added = new Set<string>();
  const addAddress = async (ip: string) => {
    await addLoopbackAddress(ip);
    added.add(ip);
  };
  const pass = async (): Promise<string[]> => {
    const errors: string[] = [];
    const step = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
        if (!quiet(err)) log(`${what}: ${(err as Error).message}`);
      }
    };
    const assigned = (cluster: string) => (lb: { namespace: string; name: string; ip: string }) =>
      log(`cloud controller: ${cluster} Service ${lb.namespace}/${lb.name} has load balancer ${lb.ip}`);
    await step('west load balancers', async () => void (await syncServiceLoadBalancers(west, options.west.vpcCidr, assigned('west'))));
    await step('east gateway', async () => gateway.sync(east, await syncServiceLoadBalancers(east, options.east.vpcCidr, assigned('east')), addAddress));
    await step('service mirror', async () => {
      // No Link CRD yet (before LinkMeshClusters' multicluster install): no controller would run.
      if (!(await west.find('/apis/multicluster.linkerd.io/v1alpha3'))) return;
      const report = await syncMirrors({ local: west });
      for (const w of report.writes) log(`service mirror: ${w.verb} ${w.kind} ${w.namespace ? `${w.namespace}/` : ''}${w.name}`);
      for (const failed of report.failed) errors.push(`service mirror: link ${failed.link}: ${failed.error}`);
    });
    return errors;
  };

  const loop = startPollLoop(pass, options.intervalMs ?? 1000);

  return {
    nextPass: loop.nextPass,
    addresses: () => [...added],
    stop: async () => {
      await loop.stop();
      await gateway.close();
      for (const ip of added) await removeLoopbackAddress(ip);
    },
  };
}
