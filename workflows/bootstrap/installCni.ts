/** Step install-cni: the CNI manifest applied through the API, then its rollout. */
import { DEFAULT_CNI_URL } from '../../common/inputs/bootstrapStackedEtcd';
import { kube, waits } from '../engine/activities';
import { initialized } from './cluster';
import type { BootstrapContext } from './data';

export async function installCni(ctx: BootstrapContext): Promise<void> {
  const init = await initialized(ctx);
  const cni = ctx.config.cni;
  const source = cni.file ? { file: cni.file } : { url: cni.url ?? DEFAULT_CNI_URL };
  const applied = await kube.applyManifest.executeWithOptions({ summary: 'apply the CNI manifest' }, [{ kubeconfigSecret: init.kubeconfigSecret, source }]);
  ctx.tracker.setStep(
    'install-cni',
    'waiting',
    'WaitingRollout',
    `${applied.applied} objects applied; waiting for ${applied.workloads.map((w) => `${w.kind}/${w.name}`).join(', ') || 'nothing'}`,
  );
  if (applied.workloads.length) {
    await waits.waitRollout.executeWithOptions({ summary: 'wait for the CNI rollout' }, [
      { kubeconfigSecret: init.kubeconfigSecret, workloads: applied.workloads, timeoutSeconds: cni.rolloutTimeoutSeconds },
    ]);
  }
  ctx.tracker.setStep('install-cni', 'running', 'RolledOut', `${applied.applied} objects applied and rolled out`);
}
