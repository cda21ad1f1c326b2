/**
 * Step shift-traffic, and the shift itself (failback moves back the same way): each split changes in
 * steps, each change read back and verified before the next, and recorded as an Event on the object.
 */
import { sleep, workflowInfo } from '@temporalio/workflow';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { ResolvedService } from '../../common/inputs/failoverToEast';
import { failover } from './activities';
import type { FailoverContext } from './data';
import { checkWestMirrors, movePaths, westSplitRef } from './movePaths';
import { readiness } from './readiness';

export async function shiftToEast(ctx: FailoverContext): Promise<void> {
  const { incident } = ctx;
  incident.setState('failing-over');
  if (ctx.westOptional) await checkWestMirrors(ctx);
  else if (ctx.westMirrorUnverified) {
    const problems: string[] = [];
    for (const s of ctx.services) {
      const mirror = await readiness(ctx.config.west.kubeconfigSecret, s.namespace, s.eastBackend, `west mirror ${s.namespace}/${s.eastBackend}`);
      if (!mirror.ok) problems.push(`${s.namespace}/${s.eastBackend}: ${mirror.detail}`);
    }
    if (problems.length) {
      throw kubehaFailure({
        type: ErrorType.NotReady,
        message: `west's mirror services are not ready: ${problems.join('; ')}`,
        retryable: true,
        hint: "west's API must answer and its service mirror must point at east's gateway (linkerd multicluster check); retry the step once it does",
      });
    }
    ctx.westMirrorUnverified = false;
    incident.decide('MirrorsVerified', "west's mirror services point at east");
  }
  await shiftTraffic(ctx, 'shift-traffic', ctx.config.steps, 'FailoverShift', incident.trigger());
  incident.setState('failed-over');
}

const keyOf = (s: ResolvedService) => `${s.namespace}/${s.split.name}`;

/** Moves every service to each percentage in turn, skipping what a resumed step already did. */
export async function shiftTraffic(
  ctx: FailoverContext,
  step: 'shift-traffic' | 'failback',
  percents: number[],
  reasonWord: 'FailoverShift' | 'FailbackShift',
  why: string,
): Promise<void> {
  const info = workflowInfo();
  const towardEast = reasonWord === 'FailoverShift';
  const { status } = ctx.incident;
  for (let i = 0; i < percents.length; i++) {
    const target = percents[i];
    for (const s of ctx.services) {
      const key = keyOf(s);
      const current = status.eastPercent[key];
      // Resume: a service already at or past this step (in the step's direction) is not moved back.
      if (current !== undefined && (towardEast ? current >= target : current <= target)) continue;
      ctx.tracker.setHost(step, key, 'running', 'Shifting', `east ${current ?? '?'}% → ${target}%`);
      const eventName = `${s.split.name}.${info.workflowId}.${info.runId.slice(0, 8)}.${step}-${target}`;
      const message = `kubeha ${info.workflowId}: ${s.westBackend} ${100 - target} / ${s.eastBackend} ${target} (step ${i + 1} of ${percents.length}): ${why}`;
      if (ctx.westOptional) {
        const moved = await movePaths(ctx, s, key, { step, target, reason: reasonWord, eventName, message });
        status.eastPercent[key] = moved.eastPercent;
        ctx.tracker.setHost(step, key, 'running', 'Shifted', moved.said.join('; '));
        ctx.incident.decide('Shifted', `${key}: east ${moved.eastPercent}%, step ${i + 1} of ${percents.length} (${moved.said.join('; ')}): ${why}`);
        continue;
      }
      const result = await failover.setSplitWeights.executeWithOptions({ summary: `${key}: east ${target}%` }, [
        {
          ...westSplitRef(ctx, s),
          eastPercent: target,
          event: { name: eventName, reason: reasonWord, message },
        },
      ]);
      status.eastPercent[key] = result.after.eastPercent;
      const verb = result.changed ? 'Shifted' : 'AlreadyShifted';
      ctx.tracker.setHost(step, key, 'running', verb, `east ${result.before.eastPercent}% → ${result.after.eastPercent}% (read back and verified)`);
      ctx.incident.decide(verb, `${key}: east ${result.after.eastPercent}% (was ${result.before.eastPercent}%), step ${i + 1} of ${percents.length}: ${why}`);
    }
    if (i < percents.length - 1 && ctx.config.stepPauseSeconds > 0) {
      ctx.tracker.setStep(step, 'waiting', 'Settling', `${ctx.config.stepPauseSeconds} s before the next step`);
      await sleep(`${ctx.config.stepPauseSeconds} seconds`);
      ctx.tracker.setStep(step, 'running');
    }
  }
  for (const s of ctx.services) ctx.tracker.setHost(step, keyOf(s), 'done', 'Verified', `east ${status.eastPercent[keyOf(s)]}%`);
}
