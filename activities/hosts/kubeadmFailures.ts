/**
 * What a failed kubeadm run means, from the messages kubeadm prints. The workflow reacts to the
 * type: a rejected credential is refreshed and the join retried; a half-done join is repaired
 * on the next attempt; anything else needs an operator.
 */

/** Which join credential kubeadm rejected. */
export type RejectedCredential = 'certificate-key' | 'token';

const CERTIFICATE_KEY_REJECTED: RegExp[] = [
  // The uploaded certificates expired (2 h) or were never uploaded.
  /Secret "kubeadm-certs" was not found/i,
  /secrets "kubeadm-certs" not found/i,
  // The key does not match the uploaded certificates.
  /cipher: message authentication failed/i,
  /error decoding certificate key/i,
];

const TOKEN_REJECTED: RegExp[] = [
  // Discovery: the cluster-info ConfigMap holds no signature for an unknown or expired token.
  /could not find a JWS signature in the cluster-info ConfigMap/i,
  /token id "[a-z0-9]*" is invalid for this cluster or it has expired/i,
  /failed to validate token|invalid bootstrap token|bootstrap token .*(has )?expired/i,
  // TLS bootstrap with a token the API server no longer accepts.
  /Unauthorized/,
];

/** The credential kubeadm rejected, if its output says so. Certificate-key messages win (they are more specific). */
export function rejectedCredential(output: string): RejectedCredential | undefined {
  if (CERTIFICATE_KEY_REJECTED.some((p) => p.test(output))) return 'certificate-key';
  if (TOKEN_REJECTED.some((p) => p.test(output))) return 'token';
  return undefined;
}

/**
 * kubeadm's preflight found the host already set up (init or join ran before, fully or half):
 * manifests or kubeconfigs exist, the ports are taken, or /var/lib/etcd is not empty.
 */
export function alreadySetUp(output: string): boolean {
  return [
    /\[ERROR FileAvailable--etc-kubernetes-[^\]]*\]:? .*already exists/i,
    /\[ERROR DirAvailable--var-lib-etcd\]/i,
    /\[ERROR Port-(6443|10250|10257|10259|2379|2380)\]/i,
  ].some((p) => p.test(output));
}

/** Messages of a join that got halfway in etcd: the next attempt must remove the member and reset first. */
export function halfDoneEtcdJoin(output: string): boolean {
  return [/member already exists/i, /can only promote a learner member which is in sync with leader/i, /too many learner members in cluster/i, /etcdserver: re-configuration failed/i, /etcd cluster is not healthy/i].some((p) =>
    p.test(output),
  );
}

/** The CA pin does not match the cluster: a retry cannot fix a wrong hash. */
export function caPinMismatch(output: string): boolean {
  return /none of the public keys .* are pinned/i.test(output) || /cluster CA found in cluster-info ConfigMap is invalid/i.test(output);
}

/** Network trouble reaching the API or etcd: retry as is. */
export function transientNetwork(output: string): boolean {
  return [/connection refused/i, /i\/o timeout/i, /context deadline exceeded/i, /TLS handshake timeout/i, /no route to host/i, /Could not get lock/i, /the server is currently unable to handle the request/i].some((p) =>
    p.test(output),
  );
}
