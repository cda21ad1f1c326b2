/**
 * Certificate expiry and renewal on a control-plane host: `kubeadm certs check-expiration -o json`,
 * `kubeadm certs renew all`, then a restart of the static pods so they load the renewed certificates
 * (kubeadm's documented way: the manifests leave /etc/kubernetes/manifests long enough for the kubelet
 * to stop the pods, then come back), and a wait until the host's API server answers again. The restart
 * stops this host's etcd member for a while: it runs only when every voter is healthy and the others
 * keep quorum, and it is checked healthy again after.
 */
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { setTimeout as sleep } from 'node:timers/promises';
import { quorumOf } from '../../common/haReport';
import { listEtcdMembers } from '../hosts/cluster';
import { hostFailure, type HostRunner, REMOTE, secretNames, shellWord } from '../hosts/context';
import { awaitEarlierRun, outlivingSession } from '../hosts/outlivingSession';
import { KubeadmOutputError, parseCertificateExpiration } from '../hosts/kubeadmOutput';
import { localReadyzCommand } from './probe';
import type { HostCertificates, RenewCertificatesInput, RenewCertificatesResult } from './types';

/** The static pods restarted after a renewal, in the order they come back. */
export const STATIC_PODS = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];
/** Where manifests wait while their pods stop (outside the directory the kubelet watches). */
export const PARKED_MANIFESTS = `${REMOTE.configDir}/parked-manifests`;

/** The certificates of one host, with the kubeadm-managed leaf that expires first. */
export async function certificateExpiration(run: HostRunner, host: HostSpec): Promise<HostCertificates> {
  const result = await run.check(
    host,
    { command: 'kubeadm certs check-expiration -o json', label: 'kubeadm certs check-expiration' },
    'kubeadm must be installed and /etc/kubernetes/pki present on this control-plane host',
    ErrorType.CommandTransient,
  );
  let info;
  try {
    info = parseCertificateExpiration(result.stdout);
  } catch (err) {
    throw hostFailure({
      type: ErrorType.CommandFailed,
      host,
      message: `kubeadm certs check-expiration: ${(err as Error).message}`,
      retryable: false,
      hint: 'kubeadm printed something kubeha does not understand; check the kubeadm version on the host',
      cause: err instanceof KubeadmOutputError ? err : undefined,
    });
  }
  let soonest: HostCertificates['soonest'];
  for (const cert of info.certificates) {
    if (cert.missing || cert.externallyManaged || !cert.expiresAt || cert.residualSeconds === undefined) continue;
    if (!soonest || Date.parse(cert.expiresAt) < Date.parse(soonest.expiresAt))
      soonest = { name: cert.name, expiresAt: cert.expiresAt, residualSeconds: cert.residualSeconds };
  }
  return { host: host.name, certificates: info.certificates, certificateAuthorities: info.certificateAuthorities, soonest };
}

/** Puts back manifests a previous attempt left parked (it stopped between moving them out and back). */
async function unpark(run: HostRunner, host: HostSpec): Promise<string[]> {
  const result = await run.check(
    host,
    {
      command: `if [ -d ${PARKED_MANIFESTS} ]; then for f in ${PARKED_MANIFESTS}/*.yaml; do if [ -e "$f" ]; then mv "$f" ${REMOTE.manifests}/ && basename "$f"; fi; done; fi`,
      label: 'restore static pod manifests',
    },
    `move the files of ${PARKED_MANIFESTS} back to ${REMOTE.manifests} by hand`,
    ErrorType.CommandTransient,
  );
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** What marks the restart script's command line (an earlier attempt's script is found by it). */
const RESTART_MARKER = 'kubeha-restart-static-pods';

/**
 * Moves the static pod manifests out, waits for the kubelet to stop them, and moves them back, as ONE
 * remote script that outlives the SSH session: a worker that dies during the wait must not leave a
 * control plane parked (stopped) until someone notices.
 */
export async function restartStaticPods(run: HostRunner, host: HostSpec, waitSeconds: number): Promise<string[]> {
  const list = STATIC_PODS.join(' ');
  const script = [
    `: ${RESTART_MARKER}`,
    `mkdir -p ${PARKED_MANIFESTS} && chmod 0700 ${PARKED_MANIFESTS} || exit 1`,
    `for f in ${list}; do if [ -f ${REMOTE.manifests}/$f ]; then mv ${REMOTE.manifests}/$f ${PARKED_MANIFESTS}/$f && echo $f; fi; done`,
    // The kubelet looks at the manifests directory every 20 s (fileCheckFrequency): give it that long to stop them.
    `sleep ${Math.round(waitSeconds)}`,
    `for f in ${PARKED_MANIFESTS}/*.yaml; do if [ -e "$f" ]; then mv "$f" ${REMOTE.manifests}/; fi; done`,
  ].join('; ');
  const parked = await run.check(
    host,
    {
      // kubeha's 0700 folder holds the detached script's pid and output (a host renewed before any kubeha join may lack it).
      command: `mkdir -p ${REMOTE.configDir} && chmod 0700 ${REMOTE.configDir} && ${outlivingSession(`sh -c ${shellWord(script)}`, 'restart-static-pods')}`,
      label: 'restart static pods',
      timeoutMs: (waitSeconds + 120) * 1000,
    },
    `if it stopped half-way, move the files of ${PARKED_MANIFESTS} back to ${REMOTE.manifests}`,
    ErrorType.CommandTransient,
  );
  return parked.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.endsWith('.yaml'));
}

/**
 * Refuses a restart that would cost etcd its quorum: every voter must be healthy (never renew while
 * another member is down) and there must be enough of them that one parked still leaves a quorum.
 */
async function checkQuorumAllowsRestart(run: HostRunner, host: HostSpec): Promise<void> {
  const members = await listEtcdMembers(run, host);
  const voters = members.filter((m) => !m.isLearner);
  const down = voters.filter((m) => !m.healthy);
  if (down.length > 0) {
    throw hostFailure({
      type: ErrorType.NotReady,
      host,
      message: `etcd member(s) ${down.map((m) => m.name || m.id).join(', ')} are unhealthy: restarting ${host.name}'s control plane now could lose quorum`,
      retryable: true,
      hint: 'renewal waits until every etcd voter is healthy (etcdctl endpoint health --cluster); bring the failed member back first',
    });
  }
  if (voters.length - 1 < quorumOf(voters.length)) {
    throw hostFailure({
      type: ErrorType.Conflict,
      host,
      message: `etcd has ${voters.length} voter(s): stopping ${host.name}'s for the restart leaves ${voters.length - 1}, under the quorum of ${quorumOf(voters.length)}`,
      retryable: false,
      hint: 'renewing this control plane stops the API; do it in a maintenance window by hand (kubeadm certs renew all, then restart the static pods), or add control planes first',
    });
  }
}

/** Waits until every etcd voter is healthy again after the host's restart. */
async function waitQuorumHealthy(run: HostRunner, host: HostSpec, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const members = await listEtcdMembers(run, host).catch(() => []);
    const voters = members.filter((m) => !m.isLearner);
    if (voters.length > 0 && voters.every((m) => m.healthy)) return;
    if (Date.now() > deadline) {
      throw hostFailure({
        type: ErrorType.NotReady,
        host,
        message: `etcd voters are not all healthy ${timeoutSeconds} s after ${host.name}'s restart`,
        retryable: true,
        hint: 'look at the etcd static pod on this host (crictl ps -a, kubelet journal)',
      });
    }
    await sleep(3000);
  }
}

/** Waits until the host's own API server answers /readyz (one remote loop, heartbeating through the shell). */
async function waitLocalApi(run: HostRunner, host: HostSpec, timeoutSeconds: number): Promise<void> {
  const tries = Math.max(1, Math.ceil(timeoutSeconds / 3));
  const result = await run.run(host, {
    command: `for i in $(seq ${tries}); do if ${localReadyzCommand(host)} >/dev/null 2>&1; then exit 0; fi; sleep 3; done; exit 1`,
    label: 'wait for the API server',
    timeoutMs: (timeoutSeconds + 60) * 1000,
  });
  if (result.exitCode !== 0) {
    throw hostFailure({
      type: ErrorType.NotReady,
      host,
      message: `its API server does not answer on https://${host.address}:6443/readyz ${timeoutSeconds} s after the restart`,
      retryable: true,
      hint: 'look at the kube-apiserver static pod (crictl ps -a, kubelet journal); the renewed certificates are in /etc/kubernetes/pki',
      result,
    });
  }
}

/** Renews when needed, restarts the static pods, waits for the API server, verifies the new expiry. */
export async function renewCertificates(run: HostRunner, input: RenewCertificatesInput): Promise<RenewCertificatesResult> {
  const { host } = input;
  const limit = Date.parse(input.renewIfExpiresBefore);
  // An earlier attempt's restart may still run (its worker died during the wait): let it finish. One
  // that was killed (a reboot) may have left the manifests parked: the control plane comes back first.
  await awaitEarlierRun(run, host, 'restart-static-pods', undefined, RESTART_MARKER);
  const restored = await unpark(run, host);
  const before = await certificateExpiration(run, host);
  const due = before.soonest !== undefined && Date.parse(before.soonest.expiresAt) < limit;
  if (!due) {
    if (restored.length) await waitLocalApi(run, host, input.apiTimeoutSeconds);
    return { host: host.name, renewed: false, restarted: restored, soonestExpiresAt: before.soonest?.expiresAt, kubeconfigStored: false };
  }
  await checkQuorumAllowsRestart(run, host);
  await run.check(
    host,
    { command: 'kubeadm certs renew all', label: 'kubeadm certs renew all' },
    'renewal needs the CA keys under /etc/kubernetes/pki on this host',
    ErrorType.CommandTransient,
  );
  const restarted = await restartStaticPods(run, host, input.restartWaitSeconds);
  await waitLocalApi(run, host, input.apiTimeoutSeconds);
  await waitQuorumHealthy(run, host, input.apiTimeoutSeconds);

  const after = await certificateExpiration(run, host);
  if (after.soonest && Date.parse(after.soonest.expiresAt) < limit) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `${after.soonest.name} still expires at ${after.soonest.expiresAt} after kubeadm certs renew all`,
      retryable: false,
      hint: 'an externally managed or CA certificate cannot be renewed by kubeadm; renew it by hand',
    });
  }
  // admin.conf's client certificate was renewed too: keep the fresh kubeconfig (its server stays the load balancer).
  const kubeconfig = await run.readFile(host, REMOTE.adminConf);
  if (kubeconfig) await run.secrets.put(secretNames(input.clusterName).kubeconfig, kubeconfig);
  return { host: host.name, renewed: true, restarted, soonestExpiresAt: after.soonest?.expiresAt, kubeconfigStored: kubeconfig !== undefined };
}
