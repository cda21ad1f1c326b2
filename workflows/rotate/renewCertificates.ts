/**
 * Step renew-certificates: what expires within the threshold is renewed, one host at a time (holding
 * the cluster lock), the API verified through the load balancer after each restart.
 */
import { sleep } from '@temporalio/workflow';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { defaultKubeconfigSecret } from '../../common/inputs/rotateCertificateKey';
import type { HostSpec } from '../../common/inputs/shared';
import { kube } from '../engine/activities';
import { withClusterLock } from '../lock/withClusterLock';
import { rotation } from './activities';
import type { RotationContext } from './data';

const DAY_MS = 24 * 3600_000;

/** Why the step has nothing to do in this run, or undefined when a certificate is due. */
export function renewalSkipReason(ctx: RotationContext): string | undefined {
  if (!ctx.config.certificates.enabled) return 'renewal disabled in the input (report only)';
  const limit = Date.now() + ctx.config.certificates.thresholdDays * DAY_MS;
  const due = ctx.certificates.filter((h) => h.soonest && Date.parse(h.soonest.expiresAt) < limit);
  if (due.length === 0) return `no certificate expires within ${ctx.config.certificates.thresholdDays} days`;
  if (ctx.config.dryRun) return `dry run: would renew the certificates of ${due.map((h) => h.host).join(', ')}`;
  return undefined;
}

export async function renewCertificates(ctx: RotationContext): Promise<void> {
  const step = 'renew-certificates';
  const settings = ctx.config.certificates;
  const renewIfExpiresBefore = new Date(Date.now() + settings.thresholdDays * DAY_MS).toISOString();
  const due = ctx.candidates.filter((host) => {
    const certs = ctx.certificates.find((c) => c.host === host.name);
    return certs?.soonest !== undefined && Date.parse(certs.soonest.expiresAt) < Date.parse(renewIfExpiresBefore);
  });
  due.forEach((h) => ctx.tracker.setHost(step, h.name, 'pending', 'Queued', 'hosts are renewed one at a time'));
  // One host at a time: each restart takes that host's API server and etcd member down for a while.
  for (const host of due) {
    if (ctx.renewed.includes(host.name)) continue;
    await withClusterLock(
      ctx.config.clusterName,
      `renew certificates of ${host.name} and restart its control plane`,
      async () => {
        ctx.tracker.setHost(step, host.name, 'running', 'Renewing', 'kubeadm certs renew all; restarting static pods');
        const result = await rotation.renewCertificates.executeWithOptions({ summary: `renew certificates on ${host.name}` }, [
          {
            clusterName: ctx.config.clusterName,
            host,
            renewIfExpiresBefore,
            restartWaitSeconds: settings.restartWaitSeconds,
            apiTimeoutSeconds: settings.apiTimeoutSeconds,
          },
        ]);
        await verifyApi(ctx, host);
        ctx.renewed.push(host.name);
        ctx.tracker.setHost(
          step,
          host.name,
          'done',
          result.renewed ? 'Renewed' : 'AlreadyRenewed',
          `${result.restarted.length} static pods restarted; soonest expiry now ${result.soonestExpiresAt ?? 'unknown'}; API answers through the load balancer`,
        );
      },
      {
        timeout: `${ctx.config.lockTimeoutMinutes} minutes`,
        onWaiting: () => ctx.tracker.setHost(step, host.name, 'waiting', 'WaitingForClusterLock', 'a control-plane join of this cluster runs'),
      },
    );
  }
  ctx.tracker.setStep(step, 'running', 'Renewed', `renewed ${ctx.renewed.join(', ')}`);
}

/** Polls the API through the load balancer after a host's restart; fails the step if it stays down. */
async function verifyApi(ctx: RotationContext, host: HostSpec): Promise<void> {
  const kubeconfigSecret = ctx.config.kubeconfigSecret ?? defaultKubeconfigSecret(ctx.config.clusterName);
  for (let attempt = 1; ; attempt++) {
    const api = await kube.apiReady.executeWithOptions({ summary: `API through the load balancer after ${host.name}'s restart` }, [{ kubeconfigSecret }]);
    if (api.ok) return;
    if (attempt >= 12) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        message: `the API does not answer through the load balancer after restarting ${host.name}'s control plane (HTTP ${api.status})`,
        retryable: false,
        hint: `look at the static pods on ${host.name} (crictl ps, kubelet journal) and at the target group; the other hosts were not touched`,
        details: { host: host.name },
      });
    }
    ctx.tracker.setHost('renew-certificates', host.name, 'waiting', 'WaitingApi', `API answered HTTP ${api.status} through the load balancer`);
    await sleep('5 seconds');
  }
}
