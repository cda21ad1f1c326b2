/** Step prepare-hosts: every host gets what kubeadm needs, all in parallel (bounded). */
import { failureType } from '../../common/errors';
import { hosts } from '../engine/activities';
import { mapBounded } from '../engine/steps';
import type { BootstrapContext } from './data';

export async function prepareHosts(ctx: BootstrapContext): Promise<void> {
  const step = 'prepare-hosts';
  ctx.config.hosts.forEach((h) => ctx.tracker.setHost(step, h.name, 'pending'));
  await mapBounded(ctx.config.hosts, ctx.config.parallelism, async (host) => {
    ctx.tracker.setHost(step, host.name, 'running', 'Preparing');
    try {
      const result = await hosts.prepareHost.executeWithOptions({ summary: `prepare ${host.name}` }, [
        { host, kubernetesVersion: ctx.config.kubernetesVersion, dryRun: ctx.config.dryRun },
      ]);
      const message = result.changed.length ? `${ctx.config.dryRun ? 'would change' : 'changed'}: ${result.changed.join(', ')}` : 'already prepared';
      ctx.tracker.setHost(step, host.name, 'done', result.changed.length ? 'Prepared' : 'AlreadyPrepared', message);
    } catch (err) {
      ctx.tracker.setHost(step, host.name, 'failed', failureType(err) ?? 'Error', (err as Error).message);
      throw err;
    }
  });
}
