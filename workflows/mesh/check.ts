/** Step check, and the wait every check of the pair goes through: until linkerd's checks (and kubeha's) pass. */
import { sleep } from '@temporalio/workflow';
import type { MeshCheckReport } from '../../activities/mesh/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { mesh } from './activities';
import { type MeshContext, ROLES } from './data';
import { trustOf } from './trust';

/** The checks of one status, one line each: `cluster: description (error)`. */
const checkLines = (reports: MeshCheckReport[], status: 'error' | 'warning') =>
  reports.flatMap((r) => r.checks.filter((c) => c.status === status).map((c) => `${r.cluster}: ${c.description}${c.error ? ` (${c.error})` : ''}`));
const errorLines = (reports: MeshCheckReport[]) => checkLines(reports, 'error');
const warningLines = (reports: MeshCheckReport[]) => checkLines(reports, 'warning');

export async function check(ctx: MeshContext): Promise<void> {
  const trust = await trustOf(ctx);
  await untilHealthy(ctx, 'check', () =>
    Promise.all(
      ROLES.map((role) =>
        mesh.meshCheck.executeWithOptions({ summary: `linkerd check on ${ctx.pre[role].name}` }, [
          { cluster: ctx.pre[role], scope: 'core', expectedAnchors: trust.anchorFingerprints },
        ]),
      ),
    ),
  );
}

/**
 * Runs `probe` until every report is healthy or the check deadline passes; retries belong to Temporal
 * (a workflow timer between probes), not to a sleep loop inside an activity.
 */
export async function untilHealthy(ctx: MeshContext, step: string, probe: () => Promise<MeshCheckReport[]>): Promise<MeshCheckReport[]> {
  const deadline = Date.now() + ctx.config.timeouts.checkSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    const reports = await probe();
    const errors = errorLines(reports);
    if (errors.length === 0) {
      warningLines(reports).forEach((w) => ctx.warnings.add(w));
      const total = reports.reduce((n, r) => n + r.checks.length, 0);
      const warnings = warningLines(reports).length;
      ctx.tracker.setStep(
        step,
        'running',
        warnings ? 'HealthyWithWarnings' : 'Healthy',
        `${total} checks √${warnings ? `, ${warnings} ‼: ${warningLines(reports).join('; ')}` : ''}`,
      );
      return reports;
    }
    if (Date.now() >= deadline) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        message: `not healthy after ${ctx.config.timeouts.checkSeconds} s: ${errors.slice(0, 8).join('; ')}`,
        retryable: false,
        hint: 'each × names the check and cluster (same wording as linkerd check); fix it and signal retry',
        details: { errors },
      });
    }
    ctx.tracker.setStep(
      step,
      'waiting',
      'NotHealthyYet',
      `attempt ${attempt}: ${errors.length} × (${errors.slice(0, 3).join('; ')}); checking again in ${ctx.config.timeouts.checkIntervalSeconds} s`,
    );
    await sleep(`${ctx.config.timeouts.checkIntervalSeconds} seconds`);
  }
}
