/** kubeadm join of one host, with its credentials refreshed when kubeadm rejects them. */
import type { KubeadmInitResult, LoadBalancerInfo } from '../../activities/types';
import { ErrorType, failureInfo, failureType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { hosts } from '../engine/activities';
import { initialized } from './cluster';
import { freshCredentials, refresh } from './credentials';
import type { BootstrapContext } from './data';
import { endpointOf, loadBalancer } from './loadBalancer';
import { keySensitive } from './rules';

/** How often a join may meet expired credentials and refresh them before the step fails. */
const MAX_CREDENTIAL_REFRESHES = 3;

/**
 * Joins one host, refreshing the token or the uploaded certificates when kubeadm reports them expired
 * or rejected, instead of failing the step.
 */
export async function joinHost(ctx: BootstrapContext, step: string, host: HostSpec, controlPlane: boolean): Promise<void> {
  const lb = await loadBalancer(ctx);
  const init = await initialized(ctx);
  // A control-plane join reads the certificate key from start to end: hold the cluster lock throughout.
  if (controlPlane)
    return keySensitive(ctx, `join ${host.name} as control plane`, () => joinWithRefresh(ctx, step, host, controlPlane, lb, init), step, host.name);
  return joinWithRefresh(ctx, step, host, controlPlane, lb, init);
}

async function joinWithRefresh(
  ctx: BootstrapContext,
  step: string,
  host: HostSpec,
  controlPlane: boolean,
  lb: LoadBalancerInfo,
  init: KubeadmInitResult,
): Promise<void> {
  for (let refreshes = 0; ; refreshes++) {
    const join = await freshCredentials(ctx, controlPlane);
    ctx.tracker.setHost(step, host.name, 'running', 'Joining', `kubeadm join${controlPlane ? ' --control-plane' : ''}`);
    try {
      const result = await hosts.kubeadmJoin.executeWithOptions({ summary: `join ${host.name}${controlPlane ? ' (control plane)' : ''}` }, [
        {
          clusterName: ctx.config.clusterName,
          host,
          controlPlane,
          controlPlaneEndpoint: endpointOf(lb),
          join,
          kubeconfigSecret: init.kubeconfigSecret,
          repairVia: ctx.primary,
        },
      ]);
      const how = result.alreadyJoined ? 'already in the cluster' : result.repaired ? 'joined after repairing a half-done join' : 'joined';
      ctx.tracker.setHost(step, host.name, 'running', result.alreadyJoined ? 'AlreadyJoined' : 'Joined', how);
      return;
    } catch (err) {
      if (failureType(err) !== ErrorType.CredentialExpired || refreshes >= MAX_CREDENTIAL_REFRESHES) throw err;
      const which = failureInfo(err)?.refresh;
      ctx.tracker.setHost(step, host.name, 'waiting', 'RefreshingCredentials', `kubeadm rejected the ${which ?? 'credentials'}; refreshing`);
      // Another join may have refreshed them meanwhile: refresh the newest.
      ctx.join = await refresh(ctx, ctx.join ?? join, which !== 'certificate-key', which !== 'token');
    }
  }
}
