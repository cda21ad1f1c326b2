/**
 * Step rejoin: the lost members come back one at a time. Whichever lost host answers over SSH first is
 * joined next (kubeadm's join repairs a stale host: the old Node goes, `kubeadm reset -f` wipes its old
 * etcd data, then it joins), under the cluster lock, and checked the way BootstrapStackedEtcd checks a
 * join, until the input's voters are all members again. Lost control planes go back into the load
 * balancer; lost spares stay out of it.
 */
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { assertNotRegistered, waitEtcdMember, waitHealthy, waitNodeReady } from '../bootstrap/hostChecks';
import { joinHost } from '../bootstrap/join';
import { loadBalancer, targetOf } from '../bootstrap/loadBalancer';
import { aws } from '../engine/activities';
import { comeback, stale } from './activities';
import { type RecoverContext, survivorContext } from './data';

const STEP = 'rejoin';

async function rejoinHost(ctx: RecoverContext, host: HostSpec): Promise<void> {
  const joins = survivorContext(ctx);
  const controlPlane = host.role === 'control-plane';
  if (controlPlane) {
    const lb = await loadBalancer(joins);
    await aws.registerTarget.executeWithOptions({ summary: `register ${host.name} in the target group` }, [targetOf(joins, lb, host)]);
  } else {
    await assertNotRegistered(joins, host);
  }
  await joinHost(joins, STEP, host, true);
  if (controlPlane) await waitHealthy(joins, STEP, host);
  await waitNodeReady(joins, STEP, host);
  await waitEtcdMember(joins, STEP, host);
  ctx.rejoined.push(host.name);
  ctx.tracker.setHost(
    STEP,
    host.name,
    'done',
    'Rejoined',
    controlPlane ? 'target healthy, Node Ready, etcd voter' : 'etcd voter, kept out of the load balancer',
  );
}

export async function rejoinStep(ctx: RecoverContext): Promise<void> {
  const { waitMinutes, pollSeconds } = ctx.config.rejoin;
  const survivor = ctx.survivor;
  if (!survivor) throw new Error('rejoin runs after restore');
  const lost = () => ctx.voters.filter((h) => h.name !== ctx.survivor?.name && !ctx.rejoined.includes(h.name));
  lost().forEach((h) => ctx.tracker.setHost(STEP, h.name, 'waiting', 'WaitingForHost', 'lost: waits for it to answer over SSH again'));
  while (lost().length > 0) {
    ctx.tracker.setStep(
      STEP,
      'waiting',
      'WaitingForHosts',
      `${lost().length} lost voter(s) to come back; rejoined so far: ${ctx.rejoined.join(', ') || 'none'}`,
    );
    // One activity waits (heartbeating) until a lost host answers: a day of polling stays out of the history.
    const { back } = await comeback.waitHostsBack.executeWithOptions(
      {
        summary: `wait for ${lost()
          .map((h) => h.name)
          .join(', ')} to answer`,
      },
      [{ hosts: lost(), timeoutSeconds: Math.round(waitMinutes * 60), pollSeconds }],
    );
    if (back.length === 0) {
      throw kubehaFailure({
        type: ErrorType.DeadlineExceeded,
        message: `${lost()
          .map((h) => h.name)
          .join(', ')} did not come back within ${waitMinutes} min`,
        retryable: false,
        hint: 'bring the hosts back (or replace them with machines of the same names and addresses) and signal "retry"; the cluster serves meanwhile with fewer voters',
      });
    }
    ctx.tracker.setStep(STEP, 'running', 'HostsBack', `${back.join(', ')} answer again`);
    // Every lost host that is back is reset first: its old etcd member must not meet the others (see resetStaleMember).
    const returned = lost().filter((h) => back.includes(h.name));
    for (const host of returned) {
      if (ctx.staleReset.includes(host.name)) continue;
      const { reset, reason } = await stale.resetStaleMember.executeWithOptions({ summary: `reset stale ${host.name}` }, [{ host, survivor }]);
      ctx.staleReset.push(host.name);
      ctx.tracker.setHost(
        STEP,
        host.name,
        'pending',
        reset ? 'StaleReset' : 'NothingStale',
        reset ? 'old etcd member stopped and wiped (kubeadm reset -f)' : reason,
      );
    }
    await rejoinHost(ctx, returned[0]);
  }
  ctx.tracker.setStep(STEP, 'running', 'AllRejoined', `${ctx.rejoined.join(', ') || 'no host'} rejoined`);
}
