/**
 * The one place where AWS SDK errors become kubeha failures: what a retry can fix (throttling,
 * server errors, an unreachable endpoint) is a retryable CloudTransient; what it cannot (permissions,
 * validation, quotas) is a non-retryable CloudRejected with a hint. The AWS error code travels in
 * the failure's details as `awsCode`.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { abortReason, cancellationSignal } from '../activityContext';

/** What kubeha reads from an error the SDK threw. */
export interface AwsErrorFacts {
  /** The AWS error code (`Throttling`, `ValidationError`, ...), or the Node error code for network errors. */
  code: string;
  message: string;
  httpStatus?: number;
  requestId?: string;
  /** `client` or `server`, as the SDK classifies a modelled error. */
  fault?: string;
}

// Codes AWS services use for rate limiting (ELBv2 and most Query APIs: Throttling; EC2: RequestLimitExceeded).
const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'EC2ThrottledException',
]);

// Node's codes for a peer that cannot be reached or dropped the connection, and the SDK's timeout names.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
]);

// Codes that mean the caller's identity is not allowed, or not recognised.
const DENIED_CODES = new Set([
  'UnauthorizedOperation',
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'OptInRequired',
  'CredentialsProviderError',
]);

/** Reads code, status and request id from an SDK error (modelled, unmodelled or network). */
export function awsErrorFacts(err: unknown): AwsErrorFacts | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & {
    Code?: unknown;
    code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number; requestId?: string };
  };
  const httpStatus = e.$metadata?.httpStatusCode;
  // Modelled errors carry the wire code in `Code` (the class name in `name` adds "Exception");
  // network errors carry Node's code in `code`.
  const code = typeof e.Code === 'string' ? e.Code : typeof e.code === 'string' && httpStatus === undefined ? e.code : e.name;
  if (e.$metadata === undefined && e.$fault === undefined && !NETWORK_CODES.has(code) && !DENIED_CODES.has(code)) {
    return undefined;
  }
  return {
    code,
    message: e.message,
    httpStatus,
    requestId: e.$metadata?.requestId,
    fault: typeof e.$fault === 'string' ? e.$fault : undefined,
  };
}

/**
 * True when the error is an AWS error with one of the codes (with or without the SDK's "Exception"
 * suffix), also when {@link awsCall} has already wrapped it in a kubeha failure.
 */
export function isAwsError(err: unknown, ...codes: string[]): boolean {
  const sdkError = err instanceof ApplicationFailure ? err.cause : err;
  const facts = awsErrorFacts(sdkError);
  if (!facts) return false;
  const name = sdkError instanceof Error ? sdkError.name : '';
  return codes.some((c) => facts.code === c || name === c || name === `${c}Exception` || facts.code === `${c}Exception`);
}

interface Classification {
  type: typeof ErrorType.CloudTransient | typeof ErrorType.CloudRejected;
  hint: string;
}

function classify(facts: AwsErrorFacts, operation: string): Classification {
  const { code, httpStatus } = facts;
  if (THROTTLING_CODES.has(code) || httpStatus === 429) {
    return {
      type: ErrorType.CloudTransient,
      hint: 'AWS throttled the API calls; Temporal retries with backoff. If it lasts, other tools share the account and region API rate: spread their calls or ask AWS for a higher rate.',
    };
  }
  if ((httpStatus !== undefined && httpStatus >= 500) || facts.fault === 'server') {
    return {
      type: ErrorType.CloudTransient,
      hint: 'AWS answered with a server error; a retry usually helps. If it lasts, check the AWS Health Dashboard for the region.',
    };
  }
  if (httpStatus === undefined && NETWORK_CODES.has(code)) {
    return {
      type: ErrorType.CloudTransient,
      hint: "The AWS endpoint could not be reached. Check the worker's network, proxy and DNS, the VPC endpoint if one is used, and aws.endpoint in the input.",
    };
  }
  if (code.startsWith('AccessDenied') || DENIED_CODES.has(code)) {
    return {
      type: ErrorType.CloudRejected,
      hint: `The worker's AWS identity may not call ${operation}. Grant the permission (elasticloadbalancing:* for load balancers, ec2:DescribeSubnets for subnets) or give the worker valid credentials (environment, profile or role).`,
    };
  }
  if (code.startsWith('TooMany')) {
    return {
      type: ErrorType.CloudRejected,
      hint: `An AWS quota is reached (${code}). Remove unused load balancers, target groups or targets, or raise the quota in Service Quotas.`,
    };
  }
  if (code === 'ValidationError' || code.startsWith('InvalidConfigurationRequest') || code.startsWith('InvalidParameter')) {
    return {
      type: ErrorType.CloudRejected,
      hint: `AWS rejected ${operation} as invalid; the message names the value. Fix the input (aws, loadBalancer) and start again.`,
    };
  }
  return {
    type: ErrorType.CloudRejected,
    hint: `AWS refused ${operation} (${code}); a retry will not change that. Read the message and fix the input or the account.`,
  };
}

/**
 * Turns an error from an AWS call into a kubeha failure. Failures kubeha already built, and
 * errors that are not from AWS (bugs), pass through unchanged.
 */
export function awsFailure(err: unknown, operation: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  const facts = awsErrorFacts(err);
  if (!facts) return err;
  const { type, hint } = classify(facts, operation);
  return kubehaFailure({
    type,
    retryable: type === ErrorType.CloudTransient,
    message: `AWS ${operation} failed: ${facts.code}: ${facts.message}`,
    hint,
    cause: err as Error,
    details: { awsCode: facts.code, awsOperation: operation, httpStatus: facts.httpStatus, requestId: facts.requestId },
  });
}

/**
 * Runs one AWS call with the activity's cancellation signal and maps its errors. After a
 * cancellation, the cancellation (not an AWS error) leaves the activity.
 */
export async function awsCall<T>(operation: string, call: (options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
  const signal = cancellationSignal();
  try {
    return await call(signal ? { abortSignal: signal } : {});
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    throw awsFailure(err, operation);
  }
}
