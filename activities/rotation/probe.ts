/**
 * `probeControlPlane`: can this host upload the control-plane certificates right now? It must answer
 * over SSH, hold the CA keys kubeadm encrypts and uploads, run an API server that answers on its own
 * address (not only through the load balancer), and be a Node of the cluster. Read-only.
 */
import type { HostSpec } from '../../common/inputs/shared';
import { nodeState } from '../hosts/cluster';
import { firstLine, type HostRunner, kubectl, REMOTE } from '../hosts/context';
import type { ControlPlaneProbe } from './types';

/** The CA private key `kubeadm init phase upload-certs` needs on the host. */
export const CA_KEY = '/etc/kubernetes/pki/ca.key';

/** `kubectl get --raw=/readyz` against this host's own API server (admin.conf points at the load balancer). */
export function localReadyzCommand(host: HostSpec): string {
  return kubectl(`--server=https://${host.address}:6443 get --raw=/readyz`);
}

/** Probes one host; an unfit host is an answer (healthy false, with the reason), not a failure. */
export async function probeControlPlane(run: HostRunner, host: HostSpec): Promise<ControlPlaneProbe> {
  const unhealthy = (reason: string): ControlPlaneProbe => ({ host: host.name, healthy: false, reason });
  try {
    if (!(await run.exists(host, REMOTE.adminConf, '-s'))) return unhealthy(`${REMOTE.adminConf} is missing: not an initialized control plane`);
    if (!(await run.exists(host, CA_KEY, '-s'))) return unhealthy(`${CA_KEY} is missing: this host cannot upload the control-plane certificates`);
    const readyz = await run.run(host, { command: localReadyzCommand(host), label: 'kubectl get --raw=/readyz', timeoutMs: 30_000 });
    if (readyz.exitCode !== 0)
      return unhealthy(`its API server does not answer on https://${host.address}:6443/readyz (${firstLine(readyz.stderr) || `exit ${readyz.exitCode}`})`);
    const node = await nodeState(run, host, host.name);
    if (node !== 'found') return unhealthy(node === 'missing' ? `the cluster has no Node ${host.name}` : 'the cluster does not answer through its admin.conf');
    return { host: host.name, healthy: true };
  } catch (err) {
    // SSH trouble (refused, timeout, host key) arrives as a kubeha failure: the host is unfit, the probe is fine.
    return unhealthy(`unreachable: ${firstLine((err as Error).message)}`);
  }
}
