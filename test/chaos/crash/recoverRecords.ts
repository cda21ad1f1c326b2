/**
 * What a RecoverControlPlane crash point reads from the lab, never from kubeha: how often the survivor's
 * etcd really started with `--force-new-cluster` (etcd's own log), the manifest on the host's disk, the
 * commands each lost host received after the recovery started (joins, resets, in order), and what every
 * member that answers says about its cluster through the real etcdctl.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { forcesNewCluster } from '../../../activities/recovery/manifest';
import { readCommandLog } from '../../../lab/hosts';
import { hostSide, labHostPaths } from '../../../lab/hosts/layout';
import { labEtcdctl } from '../../lab/e2e/support';

/** etcd logs this once per start that forces a new cluster (capnslog: "forcing restart of member …", zap: "forcing restart member"). */
const FORCED_START = /forcing restart (of )?member/;

/** How many times the host's etcd process started with `--force-new-cluster`, from the etcd Pod's own log. */
export function forcedStarts(labDir: string, hostName: string): number {
  const log = path.join(labHostPaths(labDir, hostName).hostLabDir, 'pods', 'etcd.log');
  if (!existsSync(log)) return 0;
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => FORCED_START.test(line)).length;
}

/** Whether the etcd manifest on the host's disk still carries `--force-new-cluster` (undefined: no etcd manifest). */
export function manifestForced(labDir: string, hostName: string): boolean | undefined {
  const file = hostSide(labHostPaths(labDir, hostName).rootDir, '/etc/kubernetes/manifests/etcd.yaml');
  return existsSync(file) ? forcesNewCluster(readFileSync(file, 'utf8')) : undefined;
}

/** What one lost host went through after the recovery started: its kubeadm joins, and how many were repeated without a reset before them. */
export interface HostRejoin {
  joins: number;
  resets: number;
  /** Joins after the first with no `kubeadm reset` since the one before (a join that ran twice on a live member). */
  unexplained: number;
}

const KUBEADM = (verb: string) => new RegExp(`(^|[\\s;&|('"])kubeadm ${verb}(?!\\s+phase)(\\s|$)`, 'm');

/** Reads a host's commands from entry `from` on, in order: each repeated join must follow a `kubeadm reset`. */
export function hostRejoin(labDir: string, hostName: string, from: number): HostRejoin {
  const entries = readCommandLog(labHostPaths(labDir, hostName).commandsLog).slice(from);
  const join = KUBEADM('join');
  const reset = KUBEADM('reset');
  const out: HostRejoin = { joins: 0, resets: 0, unexplained: 0 };
  let resetSinceJoin = false;
  for (const { command } of entries) {
    if (reset.test(command)) {
      out.resets += 1;
      resetSinceJoin = true;
    } else if (join.test(command)) {
      if (out.joins > 0 && !resetSinceJoin) out.unexplained += 1;
      out.joins += 1;
      resetSinceJoin = false;
    }
  }
  return out;
}

/** One member's own view, through the real etcdctl with the host's healthcheck-client certificate. */
export interface MemberView {
  host: string;
  /** Decimal strings: etcd's ids are 64-bit and lose digits as JavaScript numbers. */
  clusterId: string;
  memberId: string;
  leader: string;
  /** The member list it reports, as sorted `name` or `name(learner)`. */
  members: string[];
}

const field = (text: string, name: string) => new RegExp(`"${name}":(\\d+)`).exec(text)?.[1] ?? '?';

/** The member's view, or undefined when it does not answer (stopped, reset, or its certificates gone). */
export async function memberView(labDir: string, host: { name: string; address: string }): Promise<MemberView | undefined> {
  try {
    const status = await labEtcdctl(labDir, host, ['endpoint', 'status', '-w', 'json']);
    const list = JSON.parse(await labEtcdctl(labDir, host, ['member', 'list', '-w', 'json'])) as { members?: { name?: string; isLearner?: boolean }[] };
    const members = (list.members ?? []).map((m) => `${m.name ?? '(unstarted)'}${m.isLearner ? '(learner)' : ''}`).sort();
    return { host: host.name, clusterId: field(status, 'cluster_id'), memberId: field(status, 'member_id'), leader: field(status, 'leader'), members };
  } catch {
    return undefined;
  }
}

/**
 * Whether the members that answer form ONE cluster: the same cluster id, the same leader and the same
 * member list, which is `expected` (names, all voters). Returns the views and the problems.
 */
export async function oneCluster(
  labDir: string,
  hosts: { name: string; address: string }[],
  expected: string[],
): Promise<{ views: MemberView[]; problems: string[] }> {
  const views = (await Promise.all(hosts.map((h) => memberView(labDir, h)))).filter((v): v is MemberView => v !== undefined);
  const problems: string[] = [];
  const distinct = (pick: (v: MemberView) => string) => [...new Set(views.map(pick))];
  if (views.length === 0) problems.push('no etcd member answers');
  if (distinct((v) => v.clusterId).length > 1) problems.push(`two clusters: ${views.map((v) => `${v.host} in ${v.clusterId}`).join(', ')}`);
  if (distinct((v) => v.leader).length > 1) problems.push(`members disagree on the leader: ${views.map((v) => `${v.host}→${v.leader}`).join(', ')}`);
  const lists = distinct((v) => v.members.join(','));
  if (lists.length > 1) problems.push(`members disagree on the member list: ${views.map((v) => `${v.host}: ${v.members.join(' ')}`).join('; ')}`);
  const want = [...expected].sort().join(',');
  if (views.length && lists[0] !== want) problems.push(`member list ${lists[0]}, expected ${want} (all voters)`);
  return { views, problems };
}
