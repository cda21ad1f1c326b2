/**
 * Readiness as the failover reads it: a failed check is a finding (east cannot take the load, west is
 * not healthy yet), never an error of the step.
 */
import { patched } from '@temporalio/workflow';
import type { ServiceReadiness } from '../../activities/failover/types';
import { ErrorType, failureType } from '../../common/errors';
import { rootMessage } from '../engine/steps';
import { failover, probes } from './activities';
import type { FailoverContext } from './data';

function describeReadiness(r: ServiceReadiness): string {
  if (!r.serviceExists) return `service ${r.service} does not exist`;
  return `${r.ready} ready, ${r.notReady} not ready (${r.source})`;
}

/** A readiness check whose failure is a finding, not an error of the step. */
export async function readiness(
  kubeconfigSecret: string,
  namespace: string,
  name: string,
  summary: string,
): Promise<{ ok: boolean; detail: string; unreachable: boolean }> {
  try {
    const r = await failover.serviceReadiness.executeWithOptions({ summary }, [{ kubeconfigSecret, namespace, name }]);
    return { ok: r.serviceExists && r.ready > 0, detail: describeReadiness(r), unreachable: false };
  } catch (err) {
    const type = failureType(err);
    return { ok: false, detail: `${type ?? 'Error'}: ${rootMessage(err)}`, unreachable: type === ErrorType.Unreachable || type === ErrorType.CloudTransient };
  }
}

/** Whether west serves the services again: every west backend has ready endpoints. */
export async function westHealthy(ctx: FailoverContext): Promise<{ ok: boolean; why: string }> {
  const problems: string[] = [];
  // One activity per check round, whatever the number of services: a long window stays small in history.
  if (patched('kubeha-failover-one-probe-per-round')) {
    try {
      const probed = await probes.servicesReadiness.executeWithOptions({ summary: `west health: ${ctx.services.length} service(s)` }, [
        { kubeconfigSecret: ctx.config.west.kubeconfigSecret, services: ctx.services.map((s) => ({ namespace: s.namespace, name: s.westBackend })) },
      ]);
      for (const p of probed) {
        if ('error' in p) problems.push(`${p.service}: ${p.error}`);
        else if (!p.readiness.serviceExists || p.readiness.ready === 0) problems.push(`${p.service}: ${describeReadiness(p.readiness)}`);
      }
    } catch (err) {
      problems.push(`west: ${rootMessage(err)}`);
    }
    return { ok: problems.length === 0, why: problems.length ? problems.join('; ') : 'every west backend has ready endpoints' };
  }
  for (const s of ctx.services) {
    try {
      const r = await probes.serviceReadiness.executeWithOptions({ summary: `west health: ${s.namespace}/${s.westBackend}` }, [
        { kubeconfigSecret: ctx.config.west.kubeconfigSecret, namespace: s.namespace, name: s.westBackend },
      ]);
      if (!r.serviceExists || r.ready === 0) problems.push(`${s.namespace}/${s.westBackend}: ${describeReadiness(r)}`);
    } catch (err) {
      problems.push(`${s.namespace}/${s.westBackend}: ${rootMessage(err)}`);
    }
  }
  return { ok: problems.length === 0, why: problems.length ? problems.join('; ') : 'every west backend has ready endpoints' };
}
