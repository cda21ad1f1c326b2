/**
 * Checks of the lab pair that failover.test.ts runs before its incidents: the pair's kubeconfig (a
 * context per cluster, each answering through its load balancer, every Node Ready, the greeters).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { LabGreeters } from '../../../lab/orchestrator/greeters';
import { loadBalancerName } from '../../../lab/orchestrator/inputs';
import type { LabPairFiles } from '../../../lab/orchestrator/pair';
import { contextClient, type FailoverLab } from './failoverLab';

type PairFiles = LabPairFiles & { greeters: LabGreeters };

const hostsOf = (lab: FailoverLab, cluster: string) => lab.lab.state.hosts.filter((h) => h.cluster === cluster);

/** One kubeconfig with a west and an east context; both answer through their load balancers; every Node Ready; the greeters answer. */
export async function checkPairKubeconfig(lab: FailoverLab, files: PairFiles): Promise<void> {
  const hosts = (cluster: string) => hostsOf(lab, cluster);
  const lbName = (cluster: string) => loadBalancerName(cluster, lab.lab.state.topology.hostsBlockLabel);
  const kubeconfig = parse(readFileSync(files.kubeconfig, 'utf8')) as {
    contexts: Array<{ name: string }>;
    clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
  };
  assert.deepEqual(kubeconfig.contexts.map((c) => c.name).sort(), ['east', 'west']);
  const etcHosts = readFileSync('/etc/hosts', 'utf8');
  for (const cluster of ['west', 'east']) {
    const server = kubeconfig.clusters.find((c) => c.name === cluster)?.cluster.server ?? '';
    const host = new URL(server).hostname;
    assert.equal(server, files.servers[cluster]);
    assert.match(host, new RegExp(`^${lbName(cluster)}-`), `${cluster}'s server is its load balancer's DNS name`);
    assert.ok(etcHosts.includes(host), `${host} resolves through the lab's /etc/hosts block`);
    const client = contextClient(files, cluster);
    assert.equal((await client.request('GET', '/readyz')).status, 200, `${cluster} answers /readyz`);
    const nodes = (
      await client.get<{ items: Array<{ metadata: { name: string }; status: { conditions: Array<{ type: string; status: string }> } }> }>('/api/v1/nodes')
    ).items;
    assert.deepEqual(
      nodes.map((n) => n.metadata.name).sort(),
      hosts(cluster)
        .map((h) => h.name)
        .sort(),
    );
    for (const n of nodes) assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True', `${n.metadata.name} Ready`);
  }
  // The demo service for clients outside the mesh: each cluster's greeter, a process of its first worker.
  for (const cluster of ['west', 'east']) {
    const greeter = files.greeters[cluster];
    assert.equal(greeter.host, hosts(cluster).find((h) => h.role === 'worker')?.name);
    assert.equal((await (await fetch(greeter.url)).text()).trim(), `greetings from ${cluster}`);
  }
  // Two clusters, two certificate authorities.
  const cas = kubeconfig.clusters.map((c) => c.cluster['certificate-authority-data']);
  assert.notEqual(cas[0], cas[1]);
}
