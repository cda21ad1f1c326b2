/**
 * Turns what a call to the API server throws into kubeha failures: a type, whether a retry helps, and
 * a hint. Messages quote the API server's Status message, never request headers or credentials.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, kubehaFailure } from '../../common/errors';

/** Socket-level error codes that mean "nobody answered": a retry (later) can help. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** TLS errors that mean the kubeconfig does not trust the server (or the reverse): a retry cannot help. */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** What the API server said, from a Status body (JSON text or parsed). */
interface StatusBody {
  message?: string;
  reason?: string;
}

function statusOf(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  return (body ?? {}) as StatusBody;
}

/** A non-2xx answer of the API server, with its Status body. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    /** The server did not answer /readyz with 200 at the time: it is (re)starting. */
    readonly serverStarting = false,
  ) {
    super(`HTTP ${status}: ${statusOf(body).message ?? ''}`);
    this.name = 'KubeApiError';
  }
}

/** The first error code found along a cause chain. */
function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; current && depth < 6; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/**
 * Maps an error of a call to the API server at `server` into a kubeha failure. `what` says what was
 * attempted, e.g. `apply Deployment kube-system/coredns`. Cancellation (the activity's signal) and
 * errors that already are kubeha failures are returned unchanged.
 */
export function kubeFailure(err: unknown, what: string, server: string, signal?: AbortSignal): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof KubeApiError) return httpFailure(err.status, statusOf(err.body), what, server, err.serverStarting);
  const code = errorCode(err);
  if ((code && UNREACHABLE_CODES.has(code)) || isTimeout(err)) {
    return kubehaFailure({
      type: ErrorType.Unreachable,
      message: `${what}: API server ${server} unreachable (${code ?? 'request timed out'})`,
      retryable: true,
      hint: 'check that the API server (or the load balancer in front of it) is up and reachable from the worker',
      details: { server, code },
    });
  }
  if (code && TLS_TRUST_CODES.has(code)) {
    return kubehaFailure({
      type: ErrorType.AuthenticationFailed,
      message: `${what}: TLS verification of ${server} failed (${code})`,
      retryable: false,
      hint: "the kubeconfig's certificate-authority-data must sign the API server's certificate, whose names must include the server address",
      details: { server, code },
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return kubehaFailure({
    type: ErrorType.InvalidInput,
    message: `${what}: ${message}`,
    retryable: false,
    hint: 'the request could not be built; check the manifest object and the kubeconfig',
    details: { server, code },
  });
}

function httpFailure(status: number, body: StatusBody, what: string, server: string, serverStarting: boolean): ApplicationFailure {
  const said = body.message ?? body.reason ?? 'no message';
  const details = { server, status, reason: body.reason };
  const message = `${what}: HTTP ${status} from ${server}: ${said}`;
  if (status === 403 && serverStarting) {
    // A (re)started API server serves before its RBAC caches are loaded, and kubeadm's admin user (group
    // kubeadm:cluster-admins) is allowed by an RBAC binding: it is refused until the server is ready.
    return kubehaFailure({
      type: ErrorType.NotReady,
      message: `${message} (the API server is not ready yet)`,
      retryable: true,
      details,
      hint: 'the API server (re)started and has not loaded RBAC yet; a retry once /readyz answers 200 succeeds',
    });
  }
  if (status === 401) {
    return kubehaFailure({
      type: ErrorType.AuthenticationFailed,
      message,
      retryable: false,
      details,
      hint: "the API server rejected the kubeconfig's credentials: the client certificate or token expired or is not signed by the cluster CA",
    });
  }
  if (status === 403) {
    return kubehaFailure({
      type: ErrorType.CloudRejected,
      message,
      retryable: false,
      details,
      hint: "the kubeconfig's user lacks RBAC permission for this; use the cluster admin kubeconfig or grant the role",
    });
  }
  if (status === 409) {
    return kubehaFailure({
      type: ErrorType.Conflict,
      message,
      retryable: false,
      details,
      hint: 'the object is in a state the request conflicts with (another field manager, or being deleted); inspect it with kubectl',
    });
  }
  if (status === 429 || status >= 500) {
    return kubehaFailure({
      type: ErrorType.CloudTransient,
      message,
      retryable: true,
      details,
      hint: 'the API server is overloaded or its etcd is unhealthy; a retry later usually succeeds',
    });
  }
  return kubehaFailure({
    type: ErrorType.InvalidInput,
    message,
    retryable: false,
    details,
    hint: 'the API server refused the object as written; fix the manifest (the message names the field)',
  });
}
