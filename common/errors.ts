/**
 * kubeha's error model. Every failure that leaves an activity or a workflow carries:
 * - a `type` from {@link ErrorType} (Temporal matches retry policies on it),
 * - whether a retry can help (`nonRetryable` on the Temporal failure),
 * - a `hint` for the operator, in the failure details.
 *
 * This file must stay free of Node built-ins: workflows import it.
 */
import { ApplicationFailure } from '@temporalio/common';

/** The error types kubeha raises. Retry policies list the non-retryable ones by name. */
export const ErrorType = {
  /** A workflow input, webhook body or config file broke a rule. Never retryable. */
  InvalidInput: 'InvalidInput',
  /** A host or server was unreachable (SSH connect, API server). Retryable. AWS uses CloudTransient. */
  Unreachable: 'Unreachable',
  /** The SSH host key did not match the pinned fingerprint. Never retryable: someone must look. */
  HostKeyMismatch: 'HostKeyMismatch',
  /** SSH authentication failed. Never retryable. */
  AuthenticationFailed: 'AuthenticationFailed',
  /** A remote command exited non-zero for a reason a retry will not change. */
  CommandFailed: 'CommandFailed',
  /** A remote command failed for a known transient reason (apt lock, etcd leader change, ...). */
  CommandTransient: 'CommandTransient',
  /** A remote command ran past its own timeout. Retryable. */
  CommandTimeout: 'CommandTimeout',
  /** The world is not yet in the state we wait for (target initial, node NotReady). Retryable. */
  NotReady: 'NotReady',
  /** A deadline for waiting passed and the state is wrong (target unhealthy). Not retryable. */
  DeadlineExceeded: 'DeadlineExceeded',
  /** The cloud or Kubernetes API refused the request (permissions, quota, validation). Not retryable. */
  CloudRejected: 'CloudRejected',
  /** The cloud or Kubernetes API throttled or failed transiently (429, 5xx). Retryable. */
  CloudTransient: 'CloudTransient',
  /** The world is in a state kubeha will not touch without a human (adopted LB of the wrong type...). */
  Conflict: 'Conflict',
  /** A secret kubeha needs is missing or unreadable. */
  SecretMissing: 'SecretMissing',
  /** A join credential (token, certificate key, uploaded certs) expired or was rejected. Retryable after refresh. */
  CredentialExpired: 'CredentialExpired',
  /** Verification after an action found the world not as intended. */
  VerificationFailed: 'VerificationFailed',
  /** A step of a workflow failed; wraps the cause and names the step. */
  StepFailed: 'StepFailed',
} as const;

/** One of {@link ErrorType}'s values. */
export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** The structured details every kubeha failure carries as its first detail. */
export interface FailureInfo {
  /** What an operator can do about it. */
  hint: string;
  /** The workflow step or activity that raised it, when known. */
  step?: string;
  /** The host it concerns, when one does. */
  host?: string;
  /** Anything else a machine might use (exit code, stderr tail, AWS error code). No secrets. */
  [key: string]: unknown;
}

/** What {@link kubehaFailure} needs to build a failure. */
export interface KubehaFailureOptions {
  type: ErrorTypeName;
  message: string;
  /** Whether a retry of the same action can help. */
  retryable: boolean;
  hint: string;
  cause?: Error;
  details?: Omit<FailureInfo, 'hint'>;
}

/** Builds the Temporal failure kubeha throws from activities and workflows. */
export function kubehaFailure(options: KubehaFailureOptions): ApplicationFailure {
  const info: FailureInfo = { ...(options.details ?? {}), hint: options.hint };
  return ApplicationFailure.create({
    type: options.type,
    message: options.message,
    nonRetryable: !options.retryable,
    details: [info],
    cause: options.cause,
  });
}

/** Reads the {@link FailureInfo} back from a failure (or its cause chain), if it has one. */
export function failureInfo(err: unknown): FailureInfo | undefined {
  let current: unknown = err;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof ApplicationFailure) {
      const first = current.details?.[0];
      if (first && typeof first === 'object' && 'hint' in first) return first as FailureInfo;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Finds the innermost ApplicationFailure type in a cause chain (activity failures wrap it). */
export function failureType(err: unknown): string | undefined {
  let current: unknown = err;
  let found: string | undefined;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof ApplicationFailure && current.type) found = current.type;
    current = (current as { cause?: unknown }).cause;
  }
  return found;
}

/** The error types a retry never helps with; activity retry policies list these. */
export const NON_RETRYABLE_TYPES: ErrorTypeName[] = [
  ErrorType.InvalidInput,
  ErrorType.HostKeyMismatch,
  ErrorType.AuthenticationFailed,
  ErrorType.CommandFailed,
  ErrorType.DeadlineExceeded,
  ErrorType.CloudRejected,
  ErrorType.Conflict,
  ErrorType.SecretMissing,
];
