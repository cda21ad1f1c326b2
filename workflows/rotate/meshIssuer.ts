/**
 * Steps check-mesh-issuer and renew-mesh-issuer: the cluster's Linkerd issuer joins the expiry watch.
 * The check reads the issuer from the cluster and warns within the threshold; the renewal signs a new
 * issuer with the pair's anchor, restarts linkerd-identity, waits for its rollout and reads the issuer
 * again. Adopted trust (no anchor key in kubeha's store) is never renewed: the run warns instead.
 */
import type { IssuerExpiryInput } from '../../activities/mesh/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { MeshIssuerSettings } from '../../common/inputs/meshIssuer';
import { waits } from '../engine/activities';
import { meshIssuer } from './activities';
import type { RotationContext } from './data';

const CHECK = 'check-mesh-issuer';
const RENEW = 'renew-mesh-issuer';
const NO_SECTION = 'no meshIssuer in the input (the cluster is not meshed by kubeha)';

/** Skips the check when the input names no mesh issuer. */
export function meshCheckSkipReason(ctx: RotationContext): string | undefined {
  return ctx.config.meshIssuer ? undefined : NO_SECTION;
}

const watchInput = (ctx: RotationContext, settings: MeshIssuerSettings): IssuerExpiryInput => ({
  pairName: settings.pairName,
  role: settings.role,
  cluster: ctx.config.clusterName,
  thresholdDays: settings.thresholdDays,
});

/** Reads the installed issuer and records its expiry, and the warnings it calls for. */
async function readExpiry(ctx: RotationContext, settings: MeshIssuerSettings): Promise<void> {
  const expiry = await meshIssuer.meshIssuerExpiry.executeWithOptions({ summary: `Linkerd issuer expiry on ${ctx.config.clusterName}` }, [
    watchInput(ctx, settings),
  ]);
  ctx.meshIssuer = expiry;
  if (expiry.notAfter) ctx.tracker.setFact('Linkerd issuer expires', expiry.notAfter);
  if (expiry.warning) ctx.warnings.push(expiry.warning);
  if (expiry.due && !expiry.renewable) ctx.warnings.push(`${expiry.cluster}: kubeha will not renew the Linkerd issuer: ${expiry.notRenewableReason}`);
}

export async function checkMeshIssuer(ctx: RotationContext): Promise<void> {
  const settings = ctx.config.meshIssuer;
  if (!settings) return; // skipped (see meshCheckSkipReason)
  await readExpiry(ctx, settings);
  const expiry = ctx.meshIssuer;
  if (!expiry) return;
  const reason = !expiry.found ? 'NotFound' : expiry.due ? 'ExpiresSoon' : 'Checked';
  ctx.tracker.setStep(CHECK, 'running', reason, expiry.warning ?? `expires at ${expiry.notAfter} (in ${expiry.daysLeft} days)`);
}

/** Why the renewal has nothing to do in this run, or undefined when it must run. */
export function meshRenewalSkipReason(ctx: RotationContext): string | undefined {
  const settings = ctx.config.meshIssuer;
  if (!settings) return NO_SECTION;
  const expiry = ctx.meshIssuer;
  // Run alone (onlySteps), the step reads the issuer itself.
  if (!expiry) return undefined;
  if (!expiry.found) return `no Linkerd issuer to renew: ${expiry.warning}`;
  if (!expiry.due) return `the Linkerd issuer expires at ${expiry.notAfter}, not within ${settings.thresholdDays} days`;
  if (!settings.renew) return 'renewal disabled in the input (meshIssuer.renew: false): watch only';
  if (!expiry.renewable) return `kubeha will not renew it: ${expiry.notRenewableReason}`;
  if (ctx.config.dryRun) return `dry run: would sign a new Linkerd issuer for ${expiry.cluster} with the pair's anchor and restart linkerd-identity`;
  return undefined;
}

export async function renewMeshIssuer(ctx: RotationContext): Promise<void> {
  const settings = ctx.config.meshIssuer;
  if (!settings) return;
  if (!ctx.meshIssuer) {
    await readExpiry(ctx, settings);
    const skip = meshRenewalSkipReason(ctx);
    if (skip) {
      ctx.tracker.setStep(RENEW, 'running', 'NotNeeded', skip);
      return;
    }
  }
  const before = ctx.meshIssuer;
  const renewal = await meshIssuer.renewMeshIssuer.executeWithOptions({ summary: `renew the Linkerd issuer of ${ctx.config.clusterName}` }, [
    { ...watchInput(ctx, settings), validityHours: settings.validityHours },
  ]);
  ctx.meshRenewal = renewal;
  ctx.tracker.setStep(RENEW, 'waiting', 'WaitingRollout', `issuer until ${renewal.notAfter}; waiting for linkerd-identity to roll out`);
  await waits.waitRollout.executeWithOptions({ summary: `rollout of linkerd-identity on ${ctx.config.clusterName}` }, [
    { kubeconfigSecret: renewal.kubeconfigSecret, workloads: [renewal.workload], timeoutSeconds: settings.rolloutSeconds },
  ]);
  // Verify from the cluster, not from what the renewal said it wrote.
  const after = await meshIssuer.meshIssuerExpiry.executeWithOptions({ summary: `Linkerd issuer expiry on ${ctx.config.clusterName} after the renewal` }, [
    watchInput(ctx, settings),
  ]);
  if (after.due || after.fingerprint !== renewal.fingerprint) {
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      message: `after the renewal ${ctx.config.clusterName} holds issuer ${after.fingerprint?.slice(0, 16) ?? 'none'} until ${after.notAfter ?? 'unknown'}, not the renewed ${renewal.fingerprint.slice(0, 16)}`,
      retryable: false,
      hint: 'something else writes Secret linkerd/linkerd-identity-issuer (cert-manager, a GitOps sync?); stop it, then retry the step',
    });
  }
  // The warnings were about the issuer before; the one installed now is what the result reports.
  ctx.warnings = ctx.warnings.filter((w) => w !== before?.warning);
  ctx.meshIssuer = after;
  ctx.tracker.setFact('Linkerd issuer expires', after.notAfter ?? '');
  ctx.tracker.setStep(
    RENEW,
    'running',
    renewal.secretWritten ? 'Renewed' : 'AlreadyRenewed',
    `issuer ${renewal.fingerprint.slice(0, 16)} until ${renewal.notAfter}; linkerd-identity ${renewal.restarted ? 'restarted' : 'already restarted'} and rolled out`,
  );
}
