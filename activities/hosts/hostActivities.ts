/**
 * The host activities: everything kubeha does on Linux hosts over SSH (prepare, kubeadm init and
 * join, join credentials, etcd membership), built on the {@link RemoteShell} contract only.
 */
import type { HostActivities } from '../types';
import { listEtcdMembers } from './cluster';
import { type HostActivityDeps, HostRunner } from './context';
import { findInitialized, kubeadmInit } from './init';
import { kubeadmJoin } from './join';
import { prepareHost } from './prepare';
import { refreshJoinCredentials } from './refresh';

export type { HostActivityDeps } from './context';

/** Builds the host activities around an injected shell and secret store. */
export function createHostActivities(deps: HostActivityDeps): HostActivities {
  const run = new HostRunner(deps);
  return {
    prepareHost: (input) => prepareHost(run, input),
    kubeadmInit: (input) => kubeadmInit(run, input),
    findInitialized: (input) => findInitialized(run, input),
    refreshJoinCredentials: (input) => refreshJoinCredentials(run, input),
    kubeadmJoin: (input) => kubeadmJoin(run, input, deps.runOptions?.().signal),
    etcdMembers: (input) => listEtcdMembers(run, input.host),
  };
}
