/**
 * The recovery activities: asking each etcd member about itself, and restoring quorum on a survivor.
 * Built on the host activities' runner (SSH and the secret store).
 */
import { type HostActivityDeps, HostRunner } from '../hosts/context';
import { probeEtcdMember } from './probe';
import { restoreEtcdFromSurvivor } from './restore';
import { resetStaleMember } from './stale';
import { waitHostsBack } from './hostsBack';
import type { RecoveryActivities } from './types';

/** Builds the recovery activities. */
export function createRecoveryActivities(deps: HostActivityDeps): RecoveryActivities {
  const run = new HostRunner(deps);
  return {
    probeEtcdMember: (input) => probeEtcdMember(run, input.host),
    restoreEtcdFromSurvivor: (input) => restoreEtcdFromSurvivor(run, input.host),
    resetStaleMember: (input) => resetStaleMember(run, input.host, input.survivor),
    waitHostsBack: (input) => waitHostsBack(run, input.hosts, input.timeoutSeconds, input.pollSeconds),
  };
}
