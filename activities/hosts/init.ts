/**
 * `kubeadmInit`: the first control plane. Asks the cluster whether it already exists before
 * anything else; init runs at most once, and a second call only makes sure the join credentials
 * and the admin kubeconfig are in the secret store.
 */
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import type { JoinCredentials, KubeadmInitInput, KubeadmInitResult } from '../types';
import { adminConfProblem } from './adminConf';
import { nodeState } from './cluster';
import { hostFailure, type HostRunner, outputTail, REMOTE, secretNames, UPLOADED_CERTS_TTL_MS } from './context';
import {
  createToken,
  type Credential,
  generateCertificateKey,
  generateToken,
  readCaCertHash,
  reusableCertificateKey,
  reusableToken,
  storeJoinCredentials,
  tokenExpiryFrom,
} from './credentials';
import { alreadySetUp, transientNetwork } from './kubeadmFailures';
import { awaitEarlierRun, outlivingSession } from './outlivingSession';
import { renderInitConfig } from './kubeadmConfig';
import { KubeadmOutputError, parseInitOutput } from './kubeadmOutput';

const INIT_TIMEOUT_MS = 15 * 60_000;

/**
 * Copies admin.conf into the secret store (it is the cluster's truth, so it is always refreshed),
 * once it is what kubeadm writes with the cluster's CA (`caHash`): nothing read from a host may run
 * code or read files on the worker.
 */
async function storeKubeconfig(run: HostRunner, host: HostSpec, clusterName: string, caHash: string): Promise<string> {
  const kubeconfig = await run.readFile(host, REMOTE.adminConf);
  if (!kubeconfig) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `${REMOTE.adminConf} is missing after init`,
      retryable: true,
      hint: 'kubeadm init did not finish writing the kubeconfigs',
    });
  }
  const problem = adminConfProblem(kubeconfig, caHash);
  if (problem) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `${REMOTE.adminConf} is refused: ${problem}`,
      retryable: false,
      hint: `kubeha accepts only the admin.conf kubeadm writes (embedded CA, client certificate and key; no exec, auth-provider, token, files or insecure-skip-tls-verify); regenerate it with \`kubeadm init phase kubeconfig admin\` on ${host.name}`,
    });
  }
  const name = secretNames(clusterName).kubeconfig;
  await run.secrets.put(name, kubeconfig);
  return name;
}

/**
 * The host belongs to cluster `clusterName`: the admin kubeconfig recorded for it (at init) carries
 * the CA the host has. A run for one cluster never acts on another cluster's hosts.
 */
async function assertSameCluster(run: HostRunner, host: HostSpec, clusterName: string, caHash: string): Promise<void> {
  const name = secretNames(clusterName).kubeconfig;
  if (!(await run.secrets.has(name))) return;
  const problem = adminConfProblem(await run.secrets.get(name), caHash);
  if (!problem) return;
  throw hostFailure({
    type: ErrorType.Conflict,
    host,
    message: `${host.name} does not belong to cluster ${clusterName}: its CA (${caHash}) is not the one recorded for the cluster at init`,
    retryable: false,
    hint: `check clusterName and the hosts of the input: ${host.name} belongs to another cluster; kubeha changed nothing on it`,
  });
}

/** The cluster exists: keep or renew the join credentials, and store the kubeconfig. */
async function ensureCredentials(run: HostRunner, input: KubeadmInitInput): Promise<KubeadmInitResult> {
  const { host, clusterName } = input;
  const caHash = await readCaCertHash(run, host);
  await assertSameCluster(run, host, clusterName, caHash);
  const kubeconfigSecret = await storeKubeconfig(run, host, clusterName, caHash);
  const token: Credential = (await reusableToken(run, host, clusterName)) ?? (await createToken(run, host));
  // No upload here: a key the cluster no longer honours comes back expired and the workflow uploads under the cluster lock.
  const certificateKey = await reusableCertificateKey(run, host, clusterName);
  const join = await storeJoinCredentials(run, clusterName, caHash, token, certificateKey);
  return { alreadyInitialized: true, join, kubeconfigSecret };
}

/** What a dry run reports: the names the real run would fill, nothing created. */
function dryRunResult(run: HostRunner, clusterName: string): KubeadmInitResult {
  const names = secretNames(clusterName);
  const now = run.now();
  const join: JoinCredentials = {
    caCertHash: '',
    tokenSecret: names.token,
    tokenExpiresAt: tokenExpiryFrom(now).toISOString(),
    certificateKeySecret: names.certificateKey,
    certificateKeyExpiresAt: new Date(now.getTime() + UPLOADED_CERTS_TTL_MS).toISOString(),
  };
  return { alreadyInitialized: false, join, kubeconfigSecret: names.kubeconfig };
}

/** Runs `kubeadm init` on the primary, or recognises that the cluster already exists. */
export async function kubeadmInit(run: HostRunner, input: KubeadmInitInput): Promise<KubeadmInitResult> {
  const { host } = input;
  // An init an earlier attempt started (its worker died) may still run: let it finish before judging.
  await awaitEarlierRun(run, host, 'init');
  const state = await nodeState(run, host, host.name);
  if (state === 'found') return ensureCredentials(run, input);
  if (state === 'missing' || (await run.exists(host, REMOTE.adminConf))) {
    // admin.conf is there but the cluster does not confirm this node: a half-done init or an API still starting.
    throw hostFailure({
      type: ErrorType.NotReady,
      host,
      message: `${REMOTE.adminConf} exists but the cluster ${state === 'missing' ? 'has no Node ' + host.name : 'does not answer'}`,
      retryable: true,
      hint: `wait for the API server (crictl ps | grep kube-apiserver); if an earlier kubeadm init failed half-way and this host holds nothing worth keeping, run \`kubeadm reset -f\` on ${host.name} and retry`,
    });
  }
  if (input.dryRun) return dryRunResult(run, input.clusterName);

  const certificateKey = await generateCertificateKey(run, host);
  const token = await generateToken(run, host);
  const secrets = [token, certificateKey];
  const config = renderInitConfig({
    clusterName: input.clusterName,
    nodeName: host.name,
    advertiseAddress: host.address,
    controlPlaneEndpoint: input.controlPlaneEndpoint,
    kubernetesVersion: input.kubernetesVersion,
    podSubnet: input.podCidr,
    serviceSubnet: input.serviceCidr,
    token,
    certificateKey,
  });
  await run.writeSecretConfig(host, REMOTE.initConfig, config);
  const startedAt = run.now();
  let result;
  try {
    result = await run.run(host, {
      command: outlivingSession(`kubeadm init --config ${REMOTE.initConfig} --upload-certs`, 'init'),
      redact: secrets,
      timeoutMs: INIT_TIMEOUT_MS,
      label: 'kubeadm init',
    });
  } finally {
    await run.removeFile(host, REMOTE.initConfig);
  }
  if (result.exitCode !== 0) {
    const output = `${result.stdout}\n${result.stderr}`;
    if (alreadySetUp(output)) {
      // Another attempt got further than we knew: ask the cluster again rather than trusting preflight.
      if ((await nodeState(run, host, host.name)) === 'found') return ensureCredentials(run, input);
      throw hostFailure({
        type: ErrorType.Conflict,
        host,
        message: 'kubeadm init preflight found the host already set up, but the cluster does not answer',
        retryable: false,
        hint: `a previous kubeadm init or join left files behind; if ${host.name} holds nothing worth keeping, run \`kubeadm reset -f\` on it and retry the step`,
        result,
        secrets,
      });
    }
    const transient = transientNetwork(output);
    throw hostFailure({
      type: transient ? ErrorType.CommandTransient : ErrorType.CommandFailed,
      host,
      message: `kubeadm init exited ${result.exitCode}`,
      retryable: transient,
      hint: `read the output tail; \`journalctl -u kubelet\` on ${host.name} shows why the control plane did not come up. The load balancer target must be registered before init (kubeadm >= 1.34.2 checks the endpoint)`,
      result,
      secrets,
    });
  }

  let caHash: string;
  try {
    const parsed = parseInitOutput(result.stdout);
    caHash = parsed.caCertHash;
    if (parsed.worker.token !== undefined && parsed.worker.token !== token)
      throw new KubeadmOutputError('kubeadm init printed a different token than the one configured');
    if (parsed.controlPlane?.certificateKey !== undefined && parsed.controlPlane.certificateKey !== certificateKey) {
      throw new KubeadmOutputError('kubeadm init printed a different certificate key than the one configured');
    }
  } catch (err) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `kubeadm init succeeded but its output is unexpected: ${(err as Error).message}`,
      retryable: true,
      hint: 'the next attempt finds the cluster and renews the credentials',
      details: { outputTail: outputTail(result, secrets, 5) },
    });
  }
  if ((await readCaCertHash(run, host)) !== caHash) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `the CA hash kubeadm init printed does not match ${REMOTE.caCert}`,
      retryable: false,
      hint: "the host's PKI changed during init; inspect /etc/kubernetes/pki before retrying",
    });
  }
  const kubeconfigSecret = await storeKubeconfig(run, host, input.clusterName, caHash);
  if ((await nodeState(run, host, host.name)) !== 'found') {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `kubeadm init finished but Node ${host.name} is not in the cluster`,
      retryable: true,
      hint: 'the next attempt checks again and renews the credentials',
    });
  }
  const join = await storeJoinCredentials(
    run,
    input.clusterName,
    caHash,
    { value: token, expiresAt: tokenExpiryFrom(startedAt) },
    { value: certificateKey, expiresAt: new Date(startedAt.getTime() + UPLOADED_CERTS_TTL_MS) },
  );
  return { alreadyInitialized: false, join, kubeconfigSecret };
}

/**
 * The cluster kubeadmInit made, found without acting: null when the primary is not a Node or the
 * admin kubeconfig is not stored. Credentials the cluster no longer honours come back expired (so the
 * joining step refreshes them, a certificate key under the cluster lock); nothing is created or uploaded.
 */
export async function findInitialized(run: HostRunner, input: Pick<KubeadmInitInput, 'clusterName' | 'host'>): Promise<KubeadmInitResult | null> {
  const { host, clusterName } = input;
  const names = secretNames(clusterName);
  if ((await nodeState(run, host, host.name)) !== 'found' || !(await run.secrets.has(names.kubeconfig))) return null;
  const caHash = await readCaCertHash(run, host);
  await assertSameCluster(run, host, clusterName, caHash);
  const expired = new Date(0).toISOString();
  const token = await reusableToken(run, host, clusterName);
  const certificateKey = await reusableCertificateKey(run, host, clusterName);
  const join: JoinCredentials = {
    caCertHash: caHash,
    tokenSecret: names.token,
    tokenExpiresAt: token?.expiresAt.toISOString() ?? expired,
    certificateKeySecret: names.certificateKey,
    certificateKeyExpiresAt: certificateKey?.expiresAt.toISOString() ?? expired,
  };
  return { alreadyInitialized: true, join, kubeconfigSecret: names.kubeconfig };
}
