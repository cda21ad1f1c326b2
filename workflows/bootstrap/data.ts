/**
 * What the steps of one BootstrapStackedEtcd run share. The hosts by role are sorted out once, after
 * validation; the load balancer, the initialised cluster and the join credentials are filled in by the
 * steps that own them (or found by the steps that only use them).
 */
import { patched } from '@temporalio/workflow';
import type { JoinCredentials, KubeadmInitResult, LoadBalancerInfo } from '../../activities/types';
import type { BootstrapStackedEtcdConfig } from '../../common/inputs/bootstrapStackedEtcd';
import type { HostSpec } from '../../common/inputs/shared';
import type { ProgressTracker } from '../engine/progress';

export interface BootstrapContext {
  readonly config: BootstrapStackedEtcdConfig;
  readonly tracker: ProgressTracker;
  readonly primary: HostSpec;
  /** Control planes after the primary, in input order. */
  readonly secondaries: HostSpec[];
  readonly spares: HostSpec[];
  readonly workers: HostSpec[];
  lb?: LoadBalancerInfo;
  init?: KubeadmInitResult;
  join?: JoinCredentials;
}

/** The run's context: the hosts of the validated input, by role. */
export function bootstrapContext(config: BootstrapStackedEtcdConfig, tracker: ProgressTracker): BootstrapContext {
  const controlPlanes = config.hosts.filter((h) => h.role === 'control-plane');
  return {
    config,
    tracker,
    primary: controlPlanes[0],
    secondaries: controlPlanes.slice(1),
    spares: config.hosts.filter((h) => h.role === 'spare-control-plane'),
    workers: config.hosts.filter((h) => h.role === 'worker'),
  };
}

/**
 * The input as the run checks it. Join credentials go only to pinned hosts unless the input opts in
 * (`joinCredentialsToUnpinnedHosts`); runs started before that rule (no patch marker in their history)
 * keep the rule they started under and replay as if they had opted in, instead of failing validation.
 */
export function underPinningRule(rawInput: unknown): unknown {
  if (patched('kubeha-pinned-join-credentials')) return rawInput;
  if (!rawInput || typeof rawInput !== 'object' || Array.isArray(rawInput)) return rawInput;
  return { ...rawInput, joinCredentialsToUnpinnedHosts: true };
}
