/**
 * LAB EMULATION of the cloud controller's service load balancers: a Service of `type: LoadBalancer`
 * gets `status.loadBalancer.ingress[0].ip`, an address of its cluster's VPC (`a.b.255.10` on), as a
 * cloud's load balancer would report one. The lab makes the address reachable from the machine by
 * adding it to the loopback interface (loopback.ts) for the data plane that serves it (gateway.ts).
 * A Service keeps the address it has; a Service that stops being a LoadBalancer has it cleared by the
 * API server itself.
 */
import type { KubeClient, KubeObject } from '../../kube/client';

/** A LoadBalancer Service and the address the lab gave it. */
export interface LabServiceLoadBalancer {
  namespace: string;
  name: string;
  ip: string;
  ports: Array<{ name?: string; port: number }>;
}

const FIRST_HOST = 10;

/** The address pool of a /16 VPC: its last /24, from .10 up (kept clear of the lab's subnets). */
export function poolAddress(vpcCidr: string, index: number): string {
  const [a, b] = vpcCidr.split('/')[0].split('.');
  if (index < 0 || FIRST_HOST + index > 254) throw new Error(`the lab has no service load balancer address number ${index} in ${vpcCidr}`);
  return `${a}.${b}.255.${FIRST_HOST + index}`;
}

const ingressIp = (service: KubeObject) =>
  (service.status as { loadBalancer?: { ingress?: Array<{ ip?: string }> } } | undefined)?.loadBalancer?.ingress?.[0]?.ip;

/** Gives every LoadBalancer Service of the cluster an address; returns all of them, oldest address first. */
export async function syncServiceLoadBalancers(
  client: KubeClient,
  vpcCidr: string,
  onAssign?: (lb: LabServiceLoadBalancer) => void,
): Promise<LabServiceLoadBalancer[]> {
  const services = (await client.get<{ items: KubeObject[] }>('/api/v1/services')).items.filter(
    (s) => (s.spec as { type?: string } | undefined)?.type === 'LoadBalancer',
  );
  const taken = new Set(services.map(ingressIp).filter((ip): ip is string => Boolean(ip)));
  const result: LabServiceLoadBalancer[] = [];
  // Oldest first, so a lab that restarts its runtime hands out the same addresses again.
  services.sort((x, y) => String(x.metadata?.creationTimestamp).localeCompare(String(y.metadata?.creationTimestamp)));
  for (const service of services) {
    const namespace = service.metadata?.namespace as string;
    const name = service.metadata?.name as string;
    let ip = ingressIp(service);
    if (!ip) {
      let index = 0;
      while (taken.has(poolAddress(vpcCidr, index))) index += 1;
      ip = poolAddress(vpcCidr, index);
      taken.add(ip);
      await client.mergePatch(`/api/v1/namespaces/${namespace}/services/${encodeURIComponent(name)}/status`, {
        status: { loadBalancer: { ingress: [{ ip }] } },
      });
      onAssign?.({ namespace, name, ip, ports: [] });
    }
    const ports = ((service.spec as { ports?: Array<{ name?: string; port: number }> }).ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port,
    }));
    result.push({ namespace, name, ip, ports });
  }
  return result;
}
