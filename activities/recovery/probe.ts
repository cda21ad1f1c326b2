/**
 * `probeEtcdMember`: asks one host's etcd about itself with `etcdctl endpoint status` and `member list`
 * against its local endpoint. Both are served by the member alone, so they answer while quorum is lost;
 * the leader field then reads 0.
 */
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { firstLine, hostFailure, type HostRunner } from '../hosts/context';
import { etcdctlCommand, memberIdHex, parseMemberList, quoteBigIntegers } from '../hosts/etcd';
import type { EtcdMemberProbe } from './types';

/**
 * A local member answers its own status in milliseconds; one that does not listen costs etcdctl the
 * whole timeout (etcd 3.4), once per voter and per precheck round, so the probe's is short.
 */
const PROBE_TIMEOUT_S = 5;

/** One endpoint's status as `etcdctl endpoint status -w json` prints it (ids already quoted). */
interface RawEndpointStatus {
  Status?: {
    header?: { member_id?: unknown; revision?: unknown };
    leader?: unknown;
    raftIndex?: unknown;
    raftTerm?: unknown;
  };
}

/** The local member's status: id, leader, raft index and term, revision. */
export function parseEndpointStatus(text: string): Pick<EtcdMemberProbe, 'memberId' | 'leader' | 'raftIndex' | 'raftTerm' | 'revision'> {
  let doc: unknown;
  try {
    doc = JSON.parse(quoteBigIntegers(text));
  } catch (err) {
    throw new Error(`etcdctl endpoint status output is not JSON: ${(err as Error).message}`);
  }
  const status = Array.isArray(doc) ? (doc[0] as RawEndpointStatus | undefined)?.Status : undefined;
  if (!status?.header) throw new Error('etcdctl endpoint status output has no Status');
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  return {
    memberId: memberIdHex(status.header.member_id),
    leader: status.leader === undefined || status.leader === 0 ? '0' : memberIdHex(status.leader),
    raftIndex: num(status.raftIndex),
    raftTerm: num(status.raftTerm),
    revision: num(status.header.revision),
  };
}

export async function probeEtcdMember(run: HostRunner, host: HostSpec): Promise<EtcdMemberProbe> {
  let status;
  try {
    status = await run.run(host, { command: etcdctlCommand('endpoint status -w json', PROBE_TIMEOUT_S), label: 'etcdctl endpoint status' });
  } catch (err) {
    return { host: host.name, reachable: false, answers: false, error: firstLine((err as Error).message) };
  }
  if (status.exitCode !== 0) return { host: host.name, reachable: true, answers: false, error: firstLine(status.stderr || status.stdout) };
  try {
    const own = parseEndpointStatus(status.stdout);
    const list = await run.run(host, { command: etcdctlCommand('member list -w json'), label: 'etcdctl member list' });
    const voters = list.exitCode === 0 ? parseMemberList(list.stdout).filter((m) => !m.isLearner).length : undefined;
    return { host: host.name, reachable: true, answers: true, ...own, voters };
  } catch (err) {
    return { host: host.name, reachable: true, answers: false, error: firstLine((err as Error).message) };
  }
}

/**
 * The probe of a host the restore acts on, which must answer over SSH: a host that went away fails the
 * attempt as retryable, with `hint` saying what the operator can do instead.
 */
export async function probeReachableMember(run: HostRunner, host: HostSpec, hint: string): Promise<EtcdMemberProbe> {
  const probe = await probeEtcdMember(run, host);
  if (!probe.reachable) {
    throw hostFailure({
      type: ErrorType.Unreachable,
      host,
      message: `${host.name} does not answer over SSH: ${probe.error ?? 'no answer'}`,
      retryable: true,
      hint,
    });
  }
  return probe;
}
