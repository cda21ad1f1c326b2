/** Step select-voter: the control-plane host whose etcd member is a healthy voter; the others reported. */
import { ErrorType, kubehaFailure } from '../../common/errors';
import { voters } from './activities';
import type { BackupContext } from './data';

export async function selectVoterStep(ctx: BackupContext): Promise<void> {
  const step = 'select-voter';
  const choice = await voters.selectEtcdVoter.executeWithOptions({ summary: 'which control plane is a healthy etcd voter?' }, [{ hosts: ctx.config.hosts }]);
  ctx.skippedHosts = choice.skipped;
  for (const s of choice.skipped) ctx.tracker.setHost(step, s.host, 'skipped', 'NotAHealthyVoter', s.reason);
  const host = ctx.config.hosts.find((h) => h.name === choice.host);
  if (!host) {
    throw kubehaFailure({
      type: ErrorType.Unreachable,
      message: `no healthy etcd voter among the control-plane hosts: ${choice.skipped.map((s) => `${s.host}: ${s.reason}`).join('; ')}`,
      retryable: true,
      hint: 'a snapshot needs quorum and a healthy voting member; each host is listed with why it was passed over',
    });
  }
  ctx.host = host;
  ctx.tracker.setHost(step, host.name, 'done', 'Selected', 'healthy etcd voter');
  ctx.tracker.setStep(step, 'running', 'Selected', host.name);
}
