/**
 * Asking a stacked etcd about its members with `etcdctl` on a control-plane host, and reading
 * its JSON. etcd member ids are uint64: JSON.parse would round most of them (above 2^53), so the
 * numbers are read as text and printed in hex, as etcdctl's table output and `member remove` do.
 */
import type { EtcdMember } from '../types';

/** Where kubeadm's stacked etcd listens and keeps the client certificates kubeha uses. */
export const ETCD_LOCAL_ENDPOINT = 'https://127.0.0.1:2379';
const PKI = '/etc/kubernetes/pki/etcd';

/**
 * An etcdctl v3 command against the local stacked etcd, with kubeadm's etcd CA and health-check client
 * certificate. etcdctl 3.4 waits the whole command timeout for an endpoint that does not listen.
 */
export function etcdctlCommand(args: string, timeoutSeconds = 15): string {
  return [
    'ETCDCTL_API=3 etcdctl',
    `--endpoints=${ETCD_LOCAL_ENDPOINT}`,
    `--cacert=${PKI}/ca.crt`,
    `--cert=${PKI}/healthcheck-client.crt`,
    `--key=${PKI}/healthcheck-client.key`,
    `--command-timeout=${timeoutSeconds}s`,
    args,
  ].join(' ');
}

/** One member as `etcdctl member list -w json` reports it. */
export interface EtcdMemberInfo {
  /** Hex, as etcdctl prints it in tables and takes in `member remove`. */
  id: string;
  /** Empty until the member has started (an added member that never came up has no name). */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** One endpoint of `etcdctl endpoint health --cluster -w json`. */
export interface EndpointHealth {
  endpoint: string;
  health: boolean;
  error?: string;
}

/** Quotes every bare integer of 16 digits or more, so uint64 ids survive JSON.parse as text. */
export function quoteBigIntegers(json: string): string {
  return json.replace(/(:\s*)(\d{16,})(?=\s*[,}\]])/g, '$1"$2"');
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A decimal uint64 (as text or a safe number) in etcd's hex form. */
export function memberIdHex(id: unknown): string {
  const text = typeof id === 'number' ? String(id) : id;
  if (typeof text !== 'string' || !/^\d+$/.test(text)) throw new Error('etcd member ID is not an unsigned integer');
  return BigInt(text).toString(16);
}

/** Parses `etcdctl member list -w json`. */
export function parseMemberList(text: string): EtcdMemberInfo[] {
  let doc: { members?: unknown };
  try {
    doc = JSON.parse(quoteBigIntegers(text));
  } catch (err) {
    throw new Error(`etcdctl member list output is not JSON: ${(err as Error).message}`);
  }
  if (!doc || !Array.isArray(doc.members)) throw new Error('etcdctl member list output has no "members" list');
  return doc.members.map((raw: Record<string, unknown>) => ({
    id: memberIdHex(raw.ID),
    name: typeof raw.name === 'string' ? raw.name : '',
    peerUrls: strings(raw.peerURLs),
    clientUrls: strings(raw.clientURLs),
    isLearner: raw.isLearner === true,
  }));
}

/** Parses `etcdctl endpoint health -w json` (a list; etcdctl exits 1 when one is unhealthy but still prints it). */
export function parseEndpointHealth(text: string): EndpointHealth[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`etcdctl endpoint health output is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc)) throw new Error('etcdctl endpoint health output is not a list');
  return doc.map((raw: Record<string, unknown>) => {
    const entry: EndpointHealth = { endpoint: String(raw.endpoint ?? ''), health: raw.health === true };
    if (typeof raw.error === 'string' && raw.error !== '') entry.error = raw.error;
    return entry;
  });
}

/** Joins members with endpoint health: a member is healthy when one of its client URLs answered healthy. */
export function withHealth(members: EtcdMemberInfo[], health: EndpointHealth[]): EtcdMember[] {
  const healthy = new Set(health.filter((h) => h.health).map((h) => h.endpoint));
  return members.map((m) => ({
    id: m.id,
    name: m.name,
    peerUrls: m.peerUrls,
    clientUrls: m.clientUrls,
    isLearner: m.isLearner,
    healthy: m.clientUrls.some((u) => healthy.has(u)),
  }));
}

/** The peer URL kubeadm gives a control-plane host's etcd member. */
export function peerUrlOf(address: string): string {
  return `https://${address}:2380`;
}

/**
 * The member that is this host: the one whose peer URL is the host's (kubeha advertises each control
 * plane's etcd on its own address; an unstarted member has a peer URL but no name). A name alone is not
 * proof: another machine may carry the same node name (see {@link memberNamedLikeHost}).
 */
export function memberOfHost<T extends { name: string; peerUrls: string[] }>(members: T[], host: { name: string; address: string }): T | undefined {
  const peer = peerUrlOf(host.address);
  return members.find((m) => m.peerUrls.includes(peer));
}

/** A member with the host's name but another machine's peer URL: not this host, and never kubeha's to remove. */
export function memberNamedLikeHost<T extends { name: string; peerUrls: string[] }>(members: T[], host: { name: string; address: string }): T | undefined {
  const peer = peerUrlOf(host.address);
  return members.find((m) => m.name === host.name && !m.peerUrls.includes(peer));
}

/**
 * Whether removing `member` keeps etcd's quorum: the healthy voters left must be at least the quorum of
 * the voters left. A learner holds no vote, so removing one always keeps it.
 */
export function removalKeepsQuorum(members: readonly EtcdMember[], member: EtcdMember): boolean {
  if (member.isLearner) return true;
  const voters = members.filter((m) => !m.isLearner && m.id !== member.id);
  const healthy = voters.filter((m) => m.healthy).length;
  return healthy >= Math.floor(voters.length / 2) + 1;
}
