/**
 * `kubeadmJoin`: one host into the cluster. It asks the cluster first (through `repairVia`): a
 * host that is already in is left alone; a half-done join (etcd member without a Node, a learner
 * never promoted, a Node without kubelet.conf, files left by an earlier attempt) is repaired with
 * `etcdctl member remove` + `kubeadm reset -f` before joining again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import type { EtcdMember, KubeadmJoinInput, KubeadmJoinResult } from '../types';
import { listEtcdMembers, nodeState, removeEtcdMember } from './cluster';
import { hostFailure, type HostRunner, kubectl, REMOTE, shellWord } from './context';
import { memberNamedLikeHost, memberOfHost, removalKeepsQuorum } from './etcd';
import { alreadySetUp, caPinMismatch, halfDoneEtcdJoin, rejectedCredential, transientNetwork } from './kubeadmFailures';
import { renderJoinConfig } from './kubeadmConfig';
import { awaitEarlierRun, outlivingSession } from './outlivingSession';

const JOIN_TIMEOUT_MS = 15 * 60_000;
/** How long the Node and the etcd member may take to show up after a successful join. */
const VERIFY_ATTEMPTS = 20;
const VERIFY_INTERVAL_MS = 3_000;

/** What the cluster and the host say about this host, before anything is done. */
export interface JoinSurvey {
  node: 'found' | 'missing';
  /** The member whose peer URL is this host's. */
  member?: EtcdMember;
  /** Every member with its health: what a repair must keep quorum with. */
  members: EtcdMember[];
  kubeletConf: boolean;
  /** Files an earlier init/join left (kubeadm's preflight would refuse to join over them). */
  leftovers: boolean;
}

/** Reads the world: Node and etcd member through `repairVia`, files on the host. */
export async function surveyJoin(run: HostRunner, input: KubeadmJoinInput): Promise<JoinSurvey> {
  const { host, repairVia } = input;
  const node = await nodeState(run, repairVia, host.name);
  if (node === 'unreachable') {
    throw hostFailure({
      type: ErrorType.Unreachable,
      host: repairVia,
      message: 'the cluster does not answer through this control-plane host',
      retryable: true,
      hint: `kubectl --kubeconfig ${REMOTE.adminConf} get nodes must work on ${repairVia.name}`,
    });
  }
  // Every join adds to etcd's view only for control planes, but a worker's host may still carry a stale member from an earlier role.
  const members = await listEtcdMembers(run, repairVia);
  const namesake = memberNamedLikeHost(members, host);
  if (namesake) {
    throw hostFailure({
      type: ErrorType.Conflict,
      host,
      message: `etcd member ${namesake.id} is named ${host.name} but its peer URL is ${namesake.peerUrls.join(', ')}, not ${host.address}'s`,
      retryable: false,
      hint: 'another machine carries this node name in etcd; kubeha never removes a member that is not this host: rename the host, or remove that member by hand if its machine is gone',
    });
  }
  const member = memberOfHost(members, host);
  const kubeletConf = await run.exists(host, REMOTE.kubeletConf);
  const leftovers = await run.run(host, {
    command: `test -e ${REMOTE.kubeletConf} || test -e ${REMOTE.caCert} || [ -n "$(ls -A ${REMOTE.manifests} 2>/dev/null)" ] || [ -n "$(ls -A ${REMOTE.etcdData} 2>/dev/null)" ]`,
    label: 'look for kubeadm leftovers',
  });
  return { node, member, members, kubeletConf, leftovers: leftovers.exitCode === 0 };
}

/** Whether the survey shows a finished join: Node, kubelet.conf and, for control planes, a started voting member. */
export function isJoined(survey: JoinSurvey, host: HostSpec, controlPlane: boolean): boolean {
  if (survey.node !== 'found' || !survey.kubeletConf) return false;
  if (!controlPlane) return true;
  return survey.member !== undefined && survey.member.name === host.name && !survey.member.isLearner;
}

/** Whether anything of an earlier attempt is in the way of a clean join. */
export function needsRepair(survey: JoinSurvey): boolean {
  return survey.member !== undefined || survey.node === 'found' || survey.leftovers;
}

/**
 * Why the host's etcd member must not be removed, or undefined when a repair may remove it: only a
 * learner, an unstarted member or an unhealthy one is stale, and only while the others keep quorum.
 */
export function memberRemovalRefusal(survey: JoinSurvey): string | undefined {
  const { member } = survey;
  if (!member) return undefined;
  const started = member.name !== '';
  if (started && !member.isLearner && member.healthy) return `etcd member ${member.id} (${member.name}) is a started, healthy voter`;
  if (!removalKeepsQuorum(survey.members, member)) return `removing etcd member ${member.id} would leave the other voters without quorum`;
  return undefined;
}

async function repair(run: HostRunner, input: KubeadmJoinInput, survey: JoinSurvey): Promise<void> {
  const { host, repairVia } = input;
  if (survey.member) {
    const refusal = memberRemovalRefusal(survey);
    if (refusal) {
      throw hostFailure({
        type: ErrorType.Conflict,
        host,
        message: `${refusal}: kubeha does not wipe it to repair ${host.name}'s join`,
        retryable: false,
        hint: `the member serves: look at why ${host.name}'s Node or ${REMOTE.kubeletConf} is missing (kubelet journal) instead; if this machine really is being rebuilt, restore quorum first and remove the member by hand`,
      });
    }
    await removeEtcdMember(run, repairVia, survey.member.id);
  }
  if (survey.node === 'found') {
    await run.check(
      repairVia,
      { command: kubectl(`delete node ${shellWord(host.name)} --ignore-not-found`), label: 'kubectl delete node' },
      'the stale Node object could not be deleted',
      ErrorType.CommandTransient,
    );
  }
  await run.check(
    host,
    { command: 'kubeadm reset -f', timeoutMs: 5 * 60_000, label: 'kubeadm reset' },
    `kubeadm reset -f failed on ${host.name}; read its output`,
    ErrorType.CommandTransient,
  );
}

/** The kubeadm version on the host (`v1.31.2`): it decides the config's apiVersion. */
async function kubeadmVersion(run: HostRunner, host: HostSpec): Promise<string> {
  const result = await run.check(
    host,
    { command: 'kubeadm version -o short', label: 'kubeadm version' },
    'kubeadm must be installed on the host (prepareHost)',
  );
  const version = result.stdout.trim().split('\n').pop()?.trim() ?? '';
  if (!/^v?\d+\.\d+\.\d+/.test(version)) {
    throw hostFailure({
      type: ErrorType.CommandFailed,
      host,
      message: 'kubeadm version -o short printed no version',
      retryable: false,
      hint: 'check the kubeadm binary on the host',
    });
  }
  return version.replace(/[-+].*$/, '');
}

async function runJoin(run: HostRunner, input: KubeadmJoinInput): Promise<void> {
  const { host } = input;
  const token = (await run.secrets.get(input.join.tokenSecret)).trim();
  const certificateKey = input.controlPlane ? (await run.secrets.get(input.join.certificateKeySecret)).trim() : undefined;
  const secrets = certificateKey ? [token, certificateKey] : [token];
  const config = renderJoinConfig({
    kubernetesVersion: await kubeadmVersion(run, host),
    nodeName: host.name,
    apiServerEndpoint: input.controlPlaneEndpoint,
    token,
    caCertHash: input.join.caCertHash,
    controlPlane: certificateKey ? { certificateKey, advertiseAddress: host.address } : undefined,
  });
  await run.writeSecretConfig(host, REMOTE.joinConfig, config);
  let result;
  try {
    result = await run.run(host, {
      command: outlivingSession(`kubeadm join --config ${REMOTE.joinConfig}`, 'join'),
      redact: secrets,
      timeoutMs: JOIN_TIMEOUT_MS,
      label: 'kubeadm join',
    });
  } finally {
    await run.removeFile(host, REMOTE.joinConfig);
  }
  if (result.exitCode === 0) return;
  const output = `${result.stdout}\n${result.stderr}`;
  const rejected = rejectedCredential(output);
  if (rejected) {
    throw hostFailure({
      type: ErrorType.CredentialExpired,
      host,
      message:
        rejected === 'token'
          ? 'kubeadm join: the bootstrap token was rejected or expired'
          : 'kubeadm join: the uploaded certificates are gone or do not open with the certificate key',
      retryable: true,
      hint:
        rejected === 'token'
          ? 'create a new token (refreshJoinCredentials) and join again'
          : 'upload the certificates again under a new key (refreshJoinCredentials) and join again; key rotation and control-plane joins must not overlap',
      result,
      secrets,
      details: { refresh: rejected },
    });
  }
  if (caPinMismatch(output)) {
    throw hostFailure({
      type: ErrorType.CommandFailed,
      host,
      message: 'kubeadm join: the cluster CA does not match the pinned hash',
      retryable: false,
      hint: 'the join credentials belong to another cluster or the CA changed; run init-primary again to record the current CA hash',
      result,
      secrets,
    });
  }
  const repairable = halfDoneEtcdJoin(output) || alreadySetUp(output);
  const transient = repairable || transientNetwork(output);
  throw hostFailure({
    type: transient ? ErrorType.CommandTransient : ErrorType.CommandFailed,
    host,
    message: `kubeadm join exited ${result.exitCode}${repairable ? ' (half-done: the next attempt repairs it)' : ''}`,
    retryable: transient,
    hint: repairable
      ? 'the next attempt removes the stale etcd member and runs kubeadm reset -f before joining'
      : `read the output tail; \`journalctl -u kubelet\` on ${host.name} often says more`,
    result,
    secrets,
  });
}

async function verifyJoined(run: HostRunner, input: KubeadmJoinInput, signal?: AbortSignal): Promise<void> {
  let survey: JoinSurvey | undefined;
  for (let attempt = 1; attempt <= VERIFY_ATTEMPTS; attempt++) {
    survey = await surveyJoin(run, input);
    if (isJoined(survey, input.host, input.controlPlane)) return;
    if (attempt < VERIFY_ATTEMPTS) await sleep(VERIFY_INTERVAL_MS, undefined, { signal });
  }
  const what =
    !survey || survey.node !== 'found'
      ? `Node ${input.host.name} is missing`
      : !survey.kubeletConf
        ? `${REMOTE.kubeletConf} is missing`
        : 'the etcd member is missing, unstarted or still a learner';
  throw hostFailure({
    type: ErrorType.VerificationFailed,
    host: input.host,
    message: `kubeadm join succeeded but ${what}`,
    retryable: true,
    hint: 'the next attempt finds the half-done join and repairs it',
  });
}

/** Joins the host unless it already is in the cluster, repairing a half-done earlier join first. */
export async function kubeadmJoin(run: HostRunner, input: KubeadmJoinInput, signal?: AbortSignal): Promise<KubeadmJoinResult> {
  const { host, repairVia } = input;
  if (host.name === repairVia.name) {
    throw hostFailure({
      type: ErrorType.InvalidInput,
      host,
      message: 'repairVia is the joining host itself',
      retryable: false,
      hint: 'repairVia must be a control-plane host already in the cluster',
    });
  }
  // A join an earlier attempt started (its worker died) may still run: let it finish before judging.
  await awaitEarlierRun(run, host, 'join', signal);
  const survey = await surveyJoin(run, input);
  if (isJoined(survey, host, input.controlPlane)) return { host: host.name, alreadyJoined: true, repaired: false };
  const repairing = needsRepair(survey);
  if (input.dryRun) return { host: host.name, alreadyJoined: false, repaired: false };
  if (repairing) await repair(run, input, survey);
  await runJoin(run, input);
  await verifyJoined(run, input, signal);
  return { host: host.name, alreadyJoined: false, repaired: repairing };
}
