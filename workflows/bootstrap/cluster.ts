/** The cluster kubeadm init makes on the primary: made by step init-primary, found by the steps after it. */
import type { KubeadmInitResult } from '../../activities/types';
import { hosts } from '../engine/activities';
import type { BootstrapContext } from './data';
import { endpointOf, loadBalancer } from './loadBalancer';
import { keySensitive, missing, stepsOwnTheirWork } from './rules';

/**
 * init-primary's own work: kubeadm init (idempotent: it asks the cluster first). It uploads the
 * certificates, so it holds the cluster lock like every other upload.
 */
export async function initPrimary(ctx: BootstrapContext): Promise<KubeadmInitResult> {
  const lb = await loadBalancer(ctx);
  const call = () =>
    hosts.kubeadmInit.executeWithOptions({ summary: `kubeadm init on ${ctx.primary.name}` }, [
      {
        clusterName: ctx.config.clusterName,
        host: ctx.primary,
        controlPlaneEndpoint: endpointOf(lb),
        kubernetesVersion: ctx.config.kubernetesVersion,
        podCidr: ctx.config.podCidr,
        serviceCidr: ctx.config.serviceCidr,
      },
    ]);
  ctx.init = stepsOwnTheirWork(ctx) ? await keySensitive(ctx, `kubeadm init on ${ctx.primary.name} (uploads certificates)`, call) : await call();
  ctx.join = ctx.init.join;
  return ctx.init;
}

/** The initialised cluster, for steps that only use it: found, never initialised. */
export async function initialized(ctx: BootstrapContext): Promise<KubeadmInitResult> {
  if (ctx.init) return ctx.init;
  if (!stepsOwnTheirWork(ctx)) return initPrimary(ctx);
  const found = await hosts.findInitialized.executeWithOptions({ summary: `find the cluster on ${ctx.primary.name}` }, [
    { clusterName: ctx.config.clusterName, host: ctx.primary },
  ]);
  if (!found) throw missing(`cluster ${ctx.config.clusterName} (kubeadm init on ${ctx.primary.name})`, 'init-primary');
  ctx.init = found;
  ctx.join = found.join;
  return found;
}
