/**
 * `kubeadm join`'s etcd-join phase as kubeadm v1.37 runs it (phases/etcd/local.go,
 * util/etcd/etcd.go): announce this host as a learner unless a member with its peer URL is there
 * already (then skip the addition, saying so only at --v=5), write etcd's manifest, wait for the
 * learner to start and promote it (an existing voter is left as it is), then wait up to 40 s for
 * the cluster to be available. A half-done earlier join therefore fails late, with kubeadm's own
 * texts, never with "already exists".
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterConfig } from './config';
import { addLearner, etcdctl, type EtcdAccess, initialCluster, listMembers, type Member, promote } from './etcd';
import { KubeadmError } from './errors';
import { etcdManifest, manifestPath, renderManifest } from './manifests';
import type { Out } from './phases';

/** kubeadm's constants: retry interval of etcd calls, and the health wait (8 × 5 s). */
const RETRY_MS = 500;
const HEALTH_RETRIES = 8;
const HEALTH_INTERVAL_MS = 5000;

/** What the phase needs. */
export interface EtcdJoinOptions {
  /** The etcd client, on the endpoints of the started voters. */
  access: EtcdAccess;
  cluster: ClusterConfig;
  nodeName: string;
  address: string;
  /** kubeadm's timeouts.etcdAPICall. */
  apiCallTimeoutMs: number;
  /** klog verbosity (`--v`). */
  verbosity: number;
  out: Out;
  warn: Out;
}

/** Polls `attempt` every 500 ms until it returns a value; at the deadline throws the last error seen. */
async function poll<T>(timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error('timed out waiting for the condition');
  for (;;) {
    try {
      const done = await attempt();
      if (done !== undefined) return done;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() + RETRY_MS > deadline) throw lastError;
    await sleep(RETRY_MS);
  }
}

/** addMember: the member list after adding this host as a learner, or as it is when its peer URL is already there. */
function addMemberAsLearner(o: EtcdJoinOptions, peerUrl: string): Promise<Member[]> {
  return poll(o.apiCallTimeoutMs, async () => {
    const members = await listMembers(o.access);
    // kubeadm compares the first peer URL only.
    if (members.some((m) => m.peerUrls[0] === peerUrl)) {
      if (o.verbosity >= 5)
        o.warn(`I${new Date().toISOString()} The peer URL ${JSON.stringify(peerUrl)} for the added etcd member already exists. Skipping etcd member addition`);
      return members;
    }
    try {
      return (await addLearner(o.access, o.nodeName, peerUrl)).members;
    } catch (err) {
      if (/Peer URLs already exists/.test((err as Error).message)) return listMembers(o.access);
      throw err;
    }
  });
}

/** MemberPromote: waits for the learner to start, then promotes it once in sync; a voter is left as it is. */
async function memberPromote(o: EtcdJoinOptions, peerUrl: string): Promise<boolean> {
  const id = (await listMembers(o.access)).find((m) => m.peerUrls[0] === peerUrl)?.id;
  if (!id) throw new KubeadmError(`couldn't find a member matching peerURL ${peerUrl}`);
  const learner = await poll(o.apiCallTimeoutMs, async () => {
    const member = (await listMembers(o.access)).find((m) => m.id === id);
    if (!member) throw new KubeadmError(`failed to get member ${id} status: member ${id} not found`);
    if (!member.isLearner) return false;
    // etcd leaves a member's name empty until it has started.
    if (member.name === '') throw new KubeadmError(`the etcd member ${id} is not started`);
    return true;
  });
  if (!learner) return false;
  await poll(o.apiCallTimeoutMs, async () => {
    const member = (await listMembers(o.access)).find((m) => m.id === id);
    if (member && !member.isLearner) return true;
    await promote(o.access, id);
    return true;
  });
  return true;
}

/** WaitForClusterAvailable: a majority of the client's endpoints answer their status, within 8 tries. */
async function waitForClusterAvailable(o: EtcdJoinOptions, endpoints: string[]): Promise<void> {
  for (let i = 0; i < HEALTH_RETRIES; i++) {
    if (i > 0) await sleep(HEALTH_INTERVAL_MS);
    let healthy = 0;
    for (const endpoint of endpoints) {
      const answered = await poll(o.apiCallTimeoutMs, async () => {
        const result = await etcdctl({ ...o.access, endpoints: [endpoint] }, ['endpoint', 'status', '-w', 'json'], 2000);
        if (result.code !== 0) throw new Error(result.stderr);
        return true;
      }).catch(() => false);
      if (answered) healthy++;
    }
    if (healthy > endpoints.length / 2) return;
  }
  throw new KubeadmError('timeout waiting for etcd cluster to be available');
}

/** Runs the phase; failures carry kubeadm's wrapping ("error creating local etcd static pod manifest file: ..."). */
export async function etcdJoin(o: EtcdJoinOptions): Promise<void> {
  const peerUrl = `https://${o.address}:2380`;
  try {
    // The client's endpoints: kubeadm syncs them from the member list (started voters only).
    const before = await listMembers(o.access);
    const endpoints = before.filter((m) => m.name !== '' && !m.isLearner).flatMap((m) => m.clientUrls);
    const members = await addMemberAsLearner(o, peerUrl);
    o.out('[etcd] Announced new etcd member joining to the existing etcd cluster');
    o.out('[etcd] Creating static Pod manifest for "etcd"');
    const manifest = etcdManifest({
      cluster: o.cluster,
      nodeName: o.nodeName,
      address: o.address,
      initialCluster: initialCluster(members, o.nodeName, peerUrl),
      existing: true,
    });
    writeFileSync(manifestPath('etcd'), renderManifest(manifest), { mode: 0o600 });
    // A promoted learner's client URL joins the endpoints; a member that already voted does not.
    if (await memberPromote(o, peerUrl)) endpoints.push(`https://${o.address}:2379`);
    o.out(`[etcd] Waiting for the new etcd member to join the cluster. This can take up to ${(HEALTH_RETRIES * HEALTH_INTERVAL_MS) / 1000}s`);
    await waitForClusterAvailable(o, [...new Set(endpoints)]);
  } catch (err) {
    throw new KubeadmError(`error creating local etcd static pod manifest file: ${(err as Error).message}`);
  }
}
