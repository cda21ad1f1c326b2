/**
 * Progress as kubeha reports it: conditions in the style of Cluster API (type, status, reason,
 * message), per step and per host. The `progress` query returns a {@link Progress}; the Web UI's
 * current details render the same thing as markdown.
 */

/** Where a step or a host stands. */
export type StepState = 'pending' | 'running' | 'waiting' | 'done' | 'failed' | 'skipped';

/** A condition on one host within a step, e.g. cp-2 joining. */
export interface HostCondition {
  host: string;
  state: StepState;
  /** One CamelCase word: Joining, WaitingTargetHealthy, AlreadyJoined. */
  reason?: string;
  /** A sentence a person reads: "join of cp-2 waits: target initial for 12 s". */
  message?: string;
  updatedAt: string;
}

/** The condition of one step. */
export interface StepCondition {
  step: string;
  state: StepState;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Attempts of this step in this run (a failed step resumed counts again). */
  attempts: number;
  hosts: HostCondition[];
}

/** The answer of the `progress` query. */
export interface Progress {
  workflow: string;
  /** The cluster (or pair) the run works on. */
  subject: string;
  /**
   * What an operator asks first, shown before everything else: for FailoverToEast, where the traffic is
   * (DNS weights, then the mesh splits), one line per service.
   */
  headline?: string[];
  phase: 'validating' | 'running' | 'waiting' | 'succeeded' | 'failed';
  currentStep?: string;
  /** Why the run waits, when it does. */
  waitingFor?: string;
  steps: StepCondition[];
  /** Facts learned so far, safe to show: load balancer DNS name, spare hosts, etcd quorum. No secrets. */
  facts: Record<string, string>;
  updatedAt: string;
}

/** The name of the progress query on every kubeha workflow. */
export const PROGRESS_QUERY = 'progress';
