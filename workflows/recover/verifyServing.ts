/**
 * Step verify-serving: the survivor's API target turns healthy, `/readyz` answers 200 through the load
 * balancer, and a write followed by a read of the same object succeeds there. The revision that write
 * got against the survivor's revision before the restore is the data-loss window's measure.
 */
import { sleep } from '@temporalio/workflow';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { initialized } from '../bootstrap/cluster';
import { loadBalancer, targetOf } from '../bootstrap/loadBalancer';
import { kube, waits } from '../engine/activities';
import { type RecoverContext, survivorContext } from './data';

/** How often, and how many times, /readyz is asked before the step fails (about two minutes). */
const READYZ_INTERVAL_S = 3;
const READYZ_ATTEMPTS = 40;

export async function verifyServingStep(ctx: RecoverContext): Promise<void> {
  const step = 'verify-serving';
  const survivor = ctx.survivor;
  if (!survivor) throw new Error('verify-serving runs after restore');
  const joins = survivorContext(ctx);
  const lb = await loadBalancer(joins);
  ctx.tracker.setHost(step, survivor.name, 'waiting', 'WaitingTargetHealthy', `target ${survivor.address}:6443`);
  const { waitedSeconds } = await waits.waitTargetHealthy.executeWithOptions({ summary: `wait until ${survivor.name} is healthy in the target group` }, [
    { ...targetOf(joins, lb, survivor), deadlineSeconds: ctx.config.cluster.loadBalancer.targetGroup.healthyDeadlineSeconds },
  ]);
  const init = await initialized(joins);
  // Right after a restore the API server may still be settling on its new etcd (its etcd check has a
  // 2 s timeout): /readyz is asked again for a while before the step fails.
  for (let asked = 1; ; asked++) {
    const ready = await kube.apiReady({ kubeconfigSecret: init.kubeconfigSecret });
    if (ready.ok) break;
    const answer = `/readyz through the load balancer answers ${ready.status}: ${ready.body.slice(0, 300)}`;
    if (asked >= READYZ_ATTEMPTS) {
      throw kubehaFailure({
        type: ErrorType.NotReady,
        message: `${answer} (asked ${asked} times, ${READYZ_INTERVAL_S} s apart)`,
        retryable: true,
        hint: `the API server on ${survivor.name} is not ready on the restored etcd; read its log and etcd's, then signal "retry"`,
      });
    }
    ctx.tracker.setHost(step, survivor.name, 'waiting', 'WaitingReadyz', answer);
    await sleep(`${READYZ_INTERVAL_S} seconds`);
  }
  const { resourceVersion } = await kube.writeReadProbe({ kubeconfigSecret: init.kubeconfigSecret, purpose: `RecoverControlPlane on ${survivor.name}` });
  ctx.servingRevision = resourceVersion;
  const before = ctx.restore?.revisionBefore;
  ctx.tracker.setFact(
    'data-loss window',
    ctx.restore?.fromBackup
      ? `backup ${ctx.restore.fromBackup.backupId} taken ${ctx.restore.fromBackup.createdAt} at revision ${before}; writes after it are gone; the first write after the restore got ${resourceVersion}`
      : before === undefined
        ? `revision ${resourceVersion} after the restore (an earlier attempt restored it; the revision before was not read)`
        : `the survivor had revision ${before}; writes after it on the lost members are gone; the first write after the restore got ${resourceVersion}`,
  );
  ctx.tracker.setHost(
    step,
    survivor.name,
    'done',
    'Serving',
    `target healthy after ${waitedSeconds} s; /readyz 200; write and read back at revision ${resourceVersion}`,
  );
  ctx.tracker.setStep(step, 'running', 'Serving', `API answers and takes writes through ${lb.dnsName}`);
}
