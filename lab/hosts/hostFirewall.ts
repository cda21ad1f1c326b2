/**
 * The lab's netfilter rules (iptables, the nft back end), which give each host its own address on
 * the wire and let a fault cut a host off from every other one, both ways.
 *
 * Lab hosts share the loopback interface, where every outgoing connection leaves from 127.0.0.1,
 * so destinations alone cannot tell a host's own connections from the others'. Two kinds of rule:
 * - source (nat POSTROUTING, for the host's whole life): connections made by the host's processes
 *   (its cgroup, see hostCgroup.ts) leave from the host's address (SNAT), as on a real machine.
 *   Peers then see the host's address, and conntrack keeps it in the connection's reply tuple.
 * - isolate (filter INPUT, while the host is isolated): every packet of a connection between the
 *   host and anyone else is rejected (ICMP host unreachable), in both directions and including
 *   established connections. "Between the host and anyone else" is read from conntrack: the host
 *   made the connection (reply destination is its address) to somewhere else, or someone else
 *   made it to the host's address. Connections inside the host (its kube-apiserver to its etcd)
 *   go on. New connections fail with "No route to host" (a connection a host makes may only fail
 *   at its first SYN retransmission, about a second later); established ones stall, as when a
 *   machine drops off the network, and resume on rejoin.
 *
 * Every rule carries a comment `kubeha-lab:<lab label>:<host>:<kind>`, so a lab removes exactly
 * its own rules (one host's, or all of a lab's after a crash) and never another lab's.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import type { HostCgroup } from './hostCgroup';

const run = promisify(execFile);

/** The start of every comment the lab puts on its rules. */
export const RULE_COMMENT_PREFIX = 'kubeha-lab';

/** What a rule does for its host. */
export type HostRuleKind = 'source' | 'isolate';

/** Where each kind of rule lives. */
const PLACE: Record<HostRuleKind, { table: string; chain: string }> = {
  source: { table: 'nat', chain: 'POSTROUTING' },
  // INPUT, not OUTPUT: a loopback packet passes both, and only on INPUT has the first packet of a
  // connection been through the source rule (SNAT), so that its reply tuple names the host.
  isolate: { table: 'filter', chain: 'INPUT' },
};

/**
 * The label a lab's rules and cgroups carry: the topology's hostsBlockLabel when it has one (two
 * labs sharing a machine set it), else one derived from the lab's folder.
 */
export function labNetworkLabel(labDir: string, hostsBlockLabel?: string): string {
  return hostsBlockLabel ?? `dir-${createHash('sha256').update(labDir).digest('hex').slice(0, 12)}`;
}

function comment(label: string, host: string, kind: HostRuleKind): string {
  return [RULE_COMMENT_PREFIX, label, host, kind].join(':');
}

async function iptables(args: string[]): Promise<string> {
  const { stdout } = await run('iptables', ['-w', ...args]);
  return stdout;
}

let support: { ok: true } | { ok: false; reason: string } | undefined;

/** Whether this machine can run the lab's rules: iptables with the nat table, conntrack and cgroup matches. */
export function firewallSupport(): { ok: true } | { ok: false; reason: string } {
  if (support) return support;
  const probe = spawnSync('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' });
  if (probe.error) support = { ok: false, reason: `iptables is not installed (${probe.error.message}); scripts/setup.sh installs it` };
  else if (probe.status !== 0) support = { ok: false, reason: `iptables cannot read the nat table: ${probe.stderr.trim()}` };
  else support = { ok: true };
  return support;
}

/** The arguments after `-A <chain>` of a host's rules of one kind. */
function ruleSpecs(kind: HostRuleKind, label: string, host: string, address: string, cgroup?: HostCgroup): string[][] {
  const tag = ['-m', 'comment', '--comment', comment(label, host, kind)];
  if (kind === 'source') {
    if (!cgroup) throw new Error(`host ${host} has no cgroup: its connections cannot be given its address`);
    return [['-o', 'lo', '-m', 'cgroup', '--path', cgroup.matchPath, ...tag, '-j', 'SNAT', '--to-source', address]];
  }
  // RELATED is left out: the ICMP errors this rule sends belong to the connection it cuts.
  const reject = ['-j', 'REJECT', '--reject-with', 'icmp-host-unreachable'];
  const tracked = ['-i', 'lo', '-m', 'conntrack', '--ctstate', 'NEW,ESTABLISHED'];
  return [
    // The host's own connections to anyone else.
    [...tracked, '--ctrepldst', address, '!', '--ctorigdst', address, ...tag, ...reject],
    // Anyone else's connections to the host.
    [...tracked, '--ctorigdst', address, '!', '--ctrepldst', address, ...tag, ...reject],
  ];
}

/**
 * Adds a host's rules of one kind, first in their chain (so no earlier ACCEPT or SNAT of the
 * machine bypasses them). Rules of that kind left from an earlier run of the host go first.
 */
export async function addHostRules(kind: HostRuleKind, label: string, host: string, address: string, cgroup?: HostCgroup): Promise<void> {
  await removeRules(label, host, kind);
  const { table, chain } = PLACE[kind];
  for (const spec of ruleSpecs(kind, label, host, address, cgroup)) await iptables(['-t', table, '-I', chain, '1', ...spec]);
}

/** Splits one line of `iptables -S` into arguments (the comment may be double-quoted). */
export function splitRuleLine(line: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]);
  }
  return words;
}

/** One of the lab's rules as `iptables -S` shows it. */
export interface LabRule {
  table: string;
  chain: string;
  comment: string;
  /** The `-A <chain> ...` arguments. */
  args: string[];
}

/** The lab's rules (comment `kubeha-lab:<label>:<host>:<kind>`), of one host and one kind when given. */
export async function listRules(label: string, host?: string, kind?: HostRuleKind): Promise<LabRule[]> {
  const matches = (text: string) => {
    const [prefix, ruleLabel, ruleHost, ruleKind, ...rest] = text.split(':');
    if (prefix !== RULE_COMMENT_PREFIX || ruleLabel !== label || rest.length > 0) return false;
    return (host === undefined || ruleHost === host) && (kind === undefined || ruleKind === kind);
  };
  const rules: LabRule[] = [];
  const places = kind ? [PLACE[kind]] : Object.values(PLACE);
  for (const { table, chain } of places) {
    for (const line of (await iptables(['-t', table, '-S', chain])).split('\n')) {
      const args = splitRuleLine(line);
      const at = args.indexOf('--comment');
      const text = at >= 0 ? args[at + 1] : undefined;
      if (args[0] !== '-A' || text === undefined) continue;
      if (matches(text)) rules.push({ table, chain, comment: text, args });
    }
  }
  return rules;
}

/**
 * Removes the lab's rules: all of the lab's (`host` left out), one host's, or one kind of one
 * host's. Other labs' rules and the machine's own are left alone. Returns how many were removed.
 */
export async function removeRules(label: string, host?: string, kind?: HostRuleKind): Promise<number> {
  if (!firewallSupport().ok) return 0;
  const rules = await listRules(label, host, kind);
  for (const rule of rules) {
    await iptables(['-t', rule.table, '-D', ...rule.args.slice(1)]).catch((err: Error) => {
      // Another process removed it meanwhile.
      if (!/does a matching rule exist|No chain\/target\/match|Bad rule/i.test(err.message)) throw err;
    });
  }
  return rules.length;
}
