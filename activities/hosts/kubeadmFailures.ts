/**
 * What a failed kubeadm run means, from the messages kubeadm prints. The workflow reacts to the
 * type: a rejected credential is refreshed and the join retried; a half-done join is repaired
 * on the next attempt; anything else needs an operator.
 *
 * Every pattern matches a text kubeadm v1.37 prints (or an error of a library it passes through):
 * test/hosts/kubeadmFailures.test.ts checks them against kubeadm's source strings.
 */

/** Which join credential kubeadm rejected. */
export type RejectedCredential = 'certificate-key' | 'token';

const CERTIFICATE_KEY_REJECTED: readonly RegExp[] = [
  // The uploaded certificates expired (2 h) or were never uploaded (copycerts.go; the API's NotFound).
  /Secret "kubeadm-certs" was not found/i,
  /secrets "kubeadm-certs" not found/i,
  // The key does not match the uploaded certificates (AES-GCM open fails), or is not hex.
  /cipher: message authentication failed/i,
  /error decoding certificate key/i,
];

const TOKEN_REJECTED: readonly RegExp[] = [
  // Discovery: cluster-info holds no signature for an unknown or expired token, or one the secret does not verify.
  /could not find a JWS signature in the cluster-info ConfigMap/i,
  /token id "[a-z0-9]*" is invalid for this cluster or it has expired/i,
  /failed to verify JWS signature of received cluster info object/i,
  // TLS bootstrap with a token the API server no longer accepts.
  /Unauthorized/,
];

const ALREADY_SET_UP: readonly RegExp[] = [
  /\[ERROR FileAvailable--etc-kubernetes-[^\]]*\]:? .*already exists/i,
  /\[ERROR DirAvailable--var-lib-etcd\]/i,
  /\[ERROR Port-(6443|10250|10257|10259|2379|2380)\]/i,
];

const HALF_DONE_ETCD_JOIN: readonly RegExp[] = [
  // kubeadm skips adding a member whose peer URL exists, then waits: for an unstarted learner to
  // start (MemberPromote, 2 min), for it to catch up, or for the cluster to be available (40 s).
  /the etcd member [0-9a-f]+ is not started/i,
  /can only promote a learner member which is in sync with leader/i,
  /timeout waiting for etcd cluster to be available/i,
  // Adding the member failed: an earlier attempt's learner is still there, or a member is down.
  /too many learner members in cluster/i,
  /etcdserver: re-configuration failed/i,
  /etcd cluster is not healthy/i,
];

const CA_PIN_MISMATCH: readonly RegExp[] = [/none of the public keys .* are pinned/i, /cluster CA found in cluster-info ConfigMap is invalid/i];

const TRANSIENT_NETWORK: readonly RegExp[] = [
  /connection refused/i,
  /i\/o timeout/i,
  /context deadline exceeded/i,
  /TLS handshake timeout/i,
  /no route to host/i,
  /Could not get lock/i,
  /the server is currently unable to handle the request/i,
];

/** Every pattern the classifiers use, by classifier (for the test against kubeadm's texts). */
export const KUBEADM_FAILURE_PATTERNS: Readonly<Record<string, readonly RegExp[]>> = {
  certificateKeyRejected: CERTIFICATE_KEY_REJECTED,
  tokenRejected: TOKEN_REJECTED,
  alreadySetUp: ALREADY_SET_UP,
  halfDoneEtcdJoin: HALF_DONE_ETCD_JOIN,
  caPinMismatch: CA_PIN_MISMATCH,
  transientNetwork: TRANSIENT_NETWORK,
};

const matches = (patterns: readonly RegExp[], output: string): boolean => patterns.some((p) => p.test(output));

/** The credential kubeadm rejected, if its output says so. Certificate-key messages win (they are more specific). */
export function rejectedCredential(output: string): RejectedCredential | undefined {
  if (matches(CERTIFICATE_KEY_REJECTED, output)) return 'certificate-key';
  if (matches(TOKEN_REJECTED, output)) return 'token';
  return undefined;
}

/**
 * kubeadm's preflight found the host already set up (init or join ran before, fully or half):
 * manifests or kubeconfigs exist, the ports are taken, or /var/lib/etcd is not empty.
 */
export function alreadySetUp(output: string): boolean {
  return matches(ALREADY_SET_UP, output);
}

/** Messages of a join that got halfway in etcd: the next attempt must remove the member and reset first. */
export function halfDoneEtcdJoin(output: string): boolean {
  return matches(HALF_DONE_ETCD_JOIN, output);
}

/** The CA pin does not match the cluster: a retry cannot fix a wrong hash. */
export function caPinMismatch(output: string): boolean {
  return matches(CA_PIN_MISMATCH, output);
}

/** Network trouble reaching the API or etcd: retry as is. */
export function transientNetwork(output: string): boolean {
  return matches(TRANSIENT_NETWORK, output);
}
