/** Step rotate-key: the control-plane certificates uploaded again under a new key, holding the cluster lock. */
import { withClusterLock } from '../lock/withClusterLock';
import { rotation } from './activities';
import type { RotationContext } from './data';
import { selectHost } from './selectHost';

export async function rotateKey(ctx: RotationContext): Promise<void> {
  const host = await selectHost(ctx);
  const step = 'rotate-key';
  const key = await withClusterLock(
    ctx.config.clusterName,
    'upload certificates under a new certificate key',
    () =>
      rotation.uploadCertificateKey.executeWithOptions({ summary: `upload certificates under a new key on ${host.name}` }, [
        { clusterName: ctx.config.clusterName, host, keepKeyUploadedWithinMinutes: ctx.config.keepKeyUploadedWithinMinutes },
      ]),
    {
      timeout: `${ctx.config.lockTimeoutMinutes} minutes`,
      onWaiting: () =>
        ctx.tracker.setStep(
          step,
          'waiting',
          'WaitingForClusterLock',
          'a control-plane join or another key upload of this cluster runs; waiting for it to finish',
        ),
      onAcquired: () => ctx.tracker.setStep(step, 'running', 'Uploading', `on ${host.name}`),
    },
  );
  ctx.key = key;
  ctx.tracker.setFact('certificate key expires', key.expiresAt);
  const message = key.rotated
    ? `new key uploaded at ${key.uploadedAt}, valid until ${key.expiresAt}${key.previousKeyRejected ? '; previous key verified rejected' : ''}`
    : `kept the key uploaded at ${key.uploadedAt} (valid until ${key.expiresAt})`;
  ctx.tracker.setStep(step, 'running', key.rotated ? 'Rotated' : 'KeptRecentKey', message);
}
