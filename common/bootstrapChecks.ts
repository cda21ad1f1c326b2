/**
 * What BootstrapStackedEtcd's verify step checks, as records (checks.ts) over facts it gathers once:
 * the Nodes, etcd's members, the target group's health and the API's answer through the load balancer.
 */
import type { EtcdMember, NodeStatus, TargetHealth } from '../activities/types';
import type { CheckRecord } from './checks';

/** A host as the checks need it. */
export interface CheckedHost {
  name: string;
  address: string;
}

/** What the verify step reads before it judges. */
export interface BootstrapFacts {
  /** Every host of the input. */
  hosts: CheckedHost[];
  /** Control planes that serve behind the load balancer (the primary and the secondaries). */
  servingControlPlanes: CheckedHost[];
  spares: CheckedHost[];
  nodes: NodeStatus[];
  members: EtcdMember[];
  targets: TargetHealth[];
  api: { ok: boolean; status: number };
}

const etcdHosts = (f: BootstrapFacts): CheckedHost[] => [...f.servingControlPlanes, ...f.spares];

/** The checks, in the order they are reported. */
export const BOOTSTRAP_CHECKS: readonly CheckRecord<BootstrapFacts>[] = [
  {
    description: 'every host has a Ready Node',
    hint: 'kubectl describe node NAME: NotReady is most often the CNI (its pod on that node) or a stopped kubelet (journalctl -u kubelet)',
    fatal: true,
    check: (f) =>
      f.hosts.flatMap((host) => {
        const node = f.nodes.find((n) => n.name === host.name);
        if (!node) return [`node ${host.name} is missing`];
        return node.ready ? [] : [`node ${host.name} is not Ready (${node.reason ?? 'no reason given'})`];
      }),
  },
  {
    description: "etcd's members are exactly the control planes and spares",
    hint: 'a missing member means a join did not finish (run join-control-plane or join-spare again); a stale one belongs to a machine that left: remove it with etcdctl member remove once you are sure',
    fatal: true,
    check: (f) => [
      ...etcdHosts(f)
        .filter((h) => !f.members.some((m) => m.name === h.name))
        .map((h) => `etcd has no member ${h.name}`),
      ...f.members
        .filter((m) => !etcdHosts(f).some((h) => h.name === m.name))
        .map((m) => `etcd member ${m.name || m.id} is not a control-plane host (stale member?)`),
    ],
  },
  {
    description: 'every etcd member is a started, healthy voter',
    hint: 'a learner is promoted once it caught up (wait, then verify again); an unhealthy member: etcdctl endpoint health on its host, and the etcd static pod log',
    fatal: true,
    check: (f) =>
      f.members.flatMap((m) => [
        ...(m.isLearner ? [`etcd member ${m.name} is still a learner`] : []),
        ...(m.healthy ? [] : [`etcd member ${m.name} is unhealthy`]),
      ]),
  },
  {
    description: 'the serving control planes are healthy targets of the load balancer',
    hint: 'an unregistered one: run join-control-plane again; an unhealthy one: its kube-apiserver does not answer /readyz (static pod log on the host)',
    fatal: true,
    check: (f) =>
      f.servingControlPlanes.flatMap((host) => {
        const target = f.targets.find((t) => t.ip === host.address);
        if (!target) return [`target ${host.name} (${host.address}) is not registered`];
        return target.state === 'healthy' ? [] : [`target ${host.name} is ${target.state}${target.reason ? ` (${target.reason})` : ''}`];
      }),
  },
  {
    description: 'the target group holds nothing else: no spare, no foreign address',
    hint: 'deregister the extra target (a spare joins the load balancer only through FailoverToEast)',
    fatal: true,
    check: (f) => [
      // A draining spare is on its way out (RecoverControlPlane's return-spare): AWS lists it until the delay ends.
      ...f.spares
        .filter((s) => f.targets.some((t) => t.ip === s.address && t.state !== 'draining'))
        .map((s) => `spare ${s.name} is registered in the target group`),
      ...f.targets.filter((t) => !etcdHosts(f).some((h) => h.address === t.ip)).map((t) => `target ${t.ip} is not a control-plane host`),
    ],
  },
  {
    description: 'the API answers /readyz through the load balancer',
    hint: "curl -k https://ENDPOINT/readyz?verbose names the failing check; the load balancer's DNS name must resolve from the worker",
    fatal: true,
    check: (f) => (f.api.ok ? [] : [`the API does not answer through the load balancer (HTTP ${f.api.status})`]),
  },
];
