/**
 * LinkMeshClusters on the lab pair (failover.test.ts runs these between the bootstrap and the incidents):
 * kubeha's own run with the lab linkerd, then what it built read back from the lab's records: `kubeha
 * check mesh` all √, the mirror's endpoints at east's gateway, a request through them answered by
 * east, FailoverToEast's readiness reads, and a second run that changes nothing on either API server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createFailoverActivities } from '../../../activities/failover';
import { MESH_STEPS } from '../../../common/inputs/linkMeshClusters';
import type { LabGreeters } from '../../../lab/orchestrator/greeters';
import type { LabPairFiles } from '../../../lab/orchestrator/pair';
import { projectRoot } from '../../../lib/paths';
import { contextClient, DEMO, readSplit, type FailoverLab, type LinkRun } from './failoverLab';

const run = promisify(execFile);
type PairFiles = LabPairFiles & { greeters: LabGreeters };

/** Runs LinkMeshClusters on the pair and checks that every step ran and the result names what was verified. */
export async function linkThePair(lab: FailoverLab, files: PairFiles): Promise<LinkRun> {
  const link = await lab.link(files.linkInput, 'lab-link-mesh-1');
  assert.equal(link.progress.phase, 'succeeded');
  const steps = link.progress.steps.map((s) => `${s.step}:${s.state}`);
  assert.deepEqual(
    steps,
    MESH_STEPS.map((s) => `${s}:done`),
  );
  assert.equal(link.result.anchorFingerprints.length, 1);
  assert.equal(link.result.linkCommand, 'link-gen');
  assert.deepEqual(link.result.trafficSplit?.kind, 'httproute');
  assert.deepEqual(
    link.result.mirrors.map((m) => m.mirror),
    [`${DEMO.namespace}/${DEMO.name}-east`],
  );
  return link;
}

/** `kubeha check mesh --west west --east east`: exit 0 and every check √. */
export async function checkMeshCommand(files: PairFiles): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [path.join(projectRoot, 'bin', 'kubeha.js'), 'check', 'mesh', '--west', 'west', '--east', 'east', '--kubeconfig', files.kubeconfig],
    { env: { ...process.env, LINKERD_PATH: path.join(projectRoot, 'lab', 'tools', 'bin', 'linkerd') }, maxBuffer: 16 << 20 },
  );
  const checks = stdout.split('\n').filter((l) => /^\s*[√‼×]/.test(l));
  assert.ok(checks.length > 20, `kubeha check mesh printed its checks:\n${stdout}`);
  assert.deepEqual(
    checks.filter((l) => !l.trim().startsWith('√')),
    [],
    stdout,
  );
  return stdout;
}

/** The mirror on west: its endpoints at east's gateway load balancer, and a request through them answered by east. */
export async function checkMirrorThroughGateway(lab: FailoverLab, files: PairFiles): Promise<void> {
  const west = contextClient(files, 'west');
  const gateway = await contextClient(files, 'east').get<{ status: { loadBalancer: { ingress: Array<{ ip: string }> } } }>(
    '/api/v1/namespaces/linkerd-multicluster/services/linkerd-gateway',
  );
  const endpoints = await west.get<{ subsets: Array<{ addresses: Array<{ ip: string }>; ports: Array<{ port: number }> }> }>(
    `/api/v1/namespaces/${DEMO.namespace}/endpoints/${DEMO.name}-east`,
  );
  const ips = endpoints.subsets[0].addresses.map((a) => a.ip);
  assert.deepEqual(
    ips,
    gateway.status.loadBalancer.ingress.map((i) => i.ip),
    "the mirror points at east's gateway",
  );
  assert.doesNotMatch(ips[0], /^127\./, 'a VPC address, as a cloud load balancer has');
  assert.deepEqual(
    endpoints.subsets[0].ports.map((p) => p.port),
    [4143],
  );
  const answer = await fetch(`http://${ips[0]}:${endpoints.subsets[0].ports[0].port}/`, { signal: AbortSignal.timeout(5000) });
  assert.equal((await answer.text()).trim(), 'greetings from east');

  // What FailoverToEast's precheck reads: east's gateway and export ready, west's mirror ready.
  const activities = createFailoverActivities({ secrets: lab.secrets });
  const readiness = (cluster: string, namespace: string, name: string) =>
    activities.serviceReadiness({ kubeconfigSecret: `clusters/${cluster}/admin-kubeconfig`, namespace, name });
  const gw = await readiness('east', 'linkerd-multicluster', 'linkerd-gateway');
  assert.deepEqual([gw.serviceExists, gw.ready >= 1], [true, true]);
  assert.ok((await readiness('east', DEMO.namespace, DEMO.name)).ready >= 1);
  assert.equal((await readiness('west', DEMO.namespace, `${DEMO.name}-east`)).ready, 1);
  const split = await readSplit(west);
  assert.deepEqual([split.west, split.east], [100, 0]);
}

/** The kinds (and where) kubeha's link writes, whose resourceVersions a no-op run must leave alone. */
const WATCHED = [
  '/api/v1/namespaces/{ns}/configmaps',
  '/api/v1/namespaces/{ns}/secrets',
  '/api/v1/namespaces/{ns}/services',
  '/api/v1/namespaces/{ns}/serviceaccounts',
  '/apis/apps/v1/namespaces/{ns}/deployments',
];
const NAMESPACES = ['linkerd', 'linkerd-multicluster', DEMO.namespace];
const CLUSTER_WIDE = ['/api/v1/namespaces', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', '/apis/multicluster.linkerd.io/v1alpha3/links'];

/**
 * Every object kubeha's link could have written on `cluster`, as `path → resourceVersion`; for
 * Deployments their generation, since their status is the lab controller's (pods' readiness) and a
 * write of kubeha's would change the spec.
 */
async function versions(files: PairFiles, cluster: string): Promise<Record<string, string>> {
  const client = contextClient(files, cluster);
  const paths = [...CLUSTER_WIDE, ...NAMESPACES.flatMap((ns) => WATCHED.map((p) => p.replace('{ns}', ns)))];
  if (cluster === 'west') paths.push(`/apis/policy.linkerd.io/v1beta3/namespaces/${DEMO.namespace}/httproutes`);
  const out: Record<string, string> = {};
  for (const p of paths) {
    const list = await client.find<{ items: Array<{ metadata: { name: string; resourceVersion: string; generation?: number } }> }>(p);
    for (const item of list?.items ?? [])
      out[`${p} ${item.metadata.name}`] = p.endsWith('/deployments') ? `generation ${item.metadata.generation}` : item.metadata.resourceVersion;
  }
  return out;
}

/** A second LinkMeshClusters run with the same input: it succeeds and no object on either cluster changes. */
export async function secondLinkChangesNothing(lab: FailoverLab, files: PairFiles, first: LinkRun): Promise<LinkRun> {
  const before = { west: await versions(files, 'west'), east: await versions(files, 'east') };
  assert.ok(Object.keys(before.west).length > 30, `west has the link's objects: ${Object.keys(before.west).length}`);
  const second = await lab.link(files.linkInput, 'lab-link-mesh-2');
  assert.equal(second.progress.phase, 'succeeded');
  assert.deepEqual(second.result.anchorFingerprints, first.result.anchorFingerprints, 'the same trust anchor, not a second one');
  const after = { west: await versions(files, 'west'), east: await versions(files, 'east') };
  for (const cluster of ['west', 'east'] as const) {
    const changed = Object.keys({ ...before[cluster], ...after[cluster] }).filter((k) => before[cluster][k] !== after[cluster][k]);
    assert.deepEqual(changed, [], `${cluster}: objects written by the second run`);
  }
  const links = await contextClient(files, 'west').get<{ items: unknown[] }>('/apis/multicluster.linkerd.io/v1alpha3/namespaces/linkerd-multicluster/links');
  assert.equal(links.items.length, 1, 'one Link');
  return second;
}
