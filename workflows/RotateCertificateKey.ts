/**
 * RotateCertificateKey: keeps a valid certificate key available for control-plane joins. The uploaded
 * control-plane certificates (Secret kube-system/kubeadm-certs) live 2 hours; run on a Temporal
 * Schedule (`kubeha schedule rotate`), this uploads them again under a new key before the old upload
 * lapses. On the same run it reports certificate expiry and renews what is close to expiring, one
 * control-plane host at a time, verifying the API through the load balancer after each.
 *
 * Key uploads and renewals hold the cluster's lock: a new key would break a control-plane join that
 * is using the previous one.
 */
import { defineQuery, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { CertificateKeyInfo, HostCertificates } from '../activities/rotation/types';
import { ErrorType, failureType, kubehaFailure } from '../common/errors';
import { defaultKubeconfigSecret, ROTATION_STEPS, rotateCertificateKeyInputSchema, type RotateCertificateKeyConfig } from '../common/inputs/rotateCertificateKey';
import type { HostSpec } from '../common/inputs/shared';
import { PROGRESS_QUERY, type Progress } from '../common/progress';
import { SEARCH_ATTRIBUTES } from '../common/searchAttributes';
import { parseInput } from '../common/validation';
import { kube } from './engine/activities';
import { withClusterLock } from './engine/clusterLock';
import { ProgressTracker } from './engine/progress';
import { probes, rotation } from './engine/rotationActivities';
import { runStepTable, type Step } from './engine/steps';

/** Query: the run's conditions per step and per host. */
export const progressQuery = defineQuery<Progress>(PROGRESS_QUERY);

/** What RotateCertificateKey returns. Names and times only, never a key. */
export interface RotationResult {
  clusterName: string;
  /** The control-plane host that uploaded the certificates. */
  host?: string;
  /** Hosts passed over, with the reason. */
  skippedHosts: { host: string; reason: string }[];
  key?: CertificateKeyInfo;
  /** The certificate expiring first, over every control-plane host checked. */
  soonestCertificate?: { host: string; name: string; expiresAt: string };
  /** Hosts whose certificates were renewed (in order). */
  renewedHosts: string[];
  dryRun: boolean;
}

interface RotationContext {
  config: RotateCertificateKeyConfig;
  tracker: ProgressTracker;
  /** Control-plane and spare hosts, in input order. */
  candidates: HostSpec[];
  host?: HostSpec;
  skipped: { host: string; reason: string }[];
  key?: CertificateKeyInfo;
  certificates: HostCertificates[];
  renewed: string[];
}

/** Rotates the certificate key of one cluster. Takes ONE object (the Web UI form's one value). */
export async function RotateCertificateKey(rawInput: unknown): Promise<RotationResult> {
  const tracker = new ProgressTracker('RotateCertificateKey', subjectOf(rawInput), ROTATION_STEPS);
  setHandler(progressQuery, () => tracker.progress);
  const config = parseInput('RotateCertificateKey', rotateCertificateKeyInputSchema, rawInput);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: config.clusterName }]);
  const context: RotationContext = { config, tracker, candidates: config.hosts.filter((h) => h.role !== 'worker'), skipped: [], certificates: [], renewed: [] };
  await runStepTable(ROTATION_STEP_TABLE, context, tracker, config);
  tracker.setPhase('succeeded');
  const soonest = soonestOf(context.certificates);
  return {
    clusterName: config.clusterName,
    host: context.host?.name,
    skippedHosts: context.skipped,
    key: context.key,
    soonestCertificate: soonest,
    renewedHosts: context.renewed,
    dryRun: config.dryRun,
  };
}

function subjectOf(raw: unknown): string {
  const name = (raw as { clusterName?: unknown } | null)?.clusterName;
  return typeof name === 'string' ? `cluster ${name.slice(0, 63)}` : 'cluster (unnamed)';
}

function soonestOf(all: HostCertificates[]): RotationResult['soonestCertificate'] {
  let best: RotationResult['soonestCertificate'];
  for (const h of all) {
    if (h.soonest && (!best || Date.parse(h.soonest.expiresAt) < Date.parse(best.expiresAt))) best = { host: h.host, name: h.soonest.name, expiresAt: h.soonest.expiresAt };
  }
  return best;
}

const DAY_MS = 24 * 3600_000;

/** The first control-plane host that answers; the others are recorded with their reason. */
async function selectHost(ctx: RotationContext): Promise<HostSpec> {
  if (ctx.host) return ctx.host;
  const step = 'select-host';
  for (const host of ctx.candidates) {
    const probe = await probes.probeControlPlane.executeWithOptions({ summary: `is ${host.name} a healthy control plane?` }, [{ host }]);
    if (probe.healthy) {
      ctx.tracker.setHost(step, host.name, 'done', 'Selected', 'answers: SSH, API server, CA keys');
      ctx.tracker.setFact('upload host', host.name);
      ctx.host = host;
      return host;
    }
    const reason = probe.reason ?? 'not healthy';
    ctx.skipped.push({ host: host.name, reason });
    ctx.tracker.setHost(step, host.name, 'skipped', 'Unhealthy', reason);
  }
  throw kubehaFailure({
    type: ErrorType.Unreachable,
    message: `no healthy control-plane host among ${ctx.candidates.map((h) => h.name).join(', ')}: ${ctx.skipped.map((s) => `${s.host}: ${s.reason}`).join('; ')}`,
    retryable: true,
    hint: 'each host is listed with why it was passed over; fix one of them and retry the step',
  });
}

/** Polls the API through the load balancer after a host's restart; fails the step if it stays down. */
async function verifyApi(ctx: RotationContext, host: HostSpec): Promise<void> {
  const kubeconfigSecret = ctx.config.kubeconfigSecret ?? defaultKubeconfigSecret(ctx.config.clusterName);
  for (let attempt = 1; ; attempt++) {
    const api = await kube.apiReady.executeWithOptions({ summary: `API through the load balancer after ${host.name}'s restart` }, [{ kubeconfigSecret }]);
    if (api.ok) return;
    if (attempt >= 12) {
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        message: `the API does not answer through the load balancer after restarting ${host.name}'s control plane (HTTP ${api.status})`,
        retryable: false,
        hint: `look at the static pods on ${host.name} (crictl ps, kubelet journal) and at the target group; the other hosts were not touched`,
        details: { host: host.name },
      });
    }
    ctx.tracker.setHost('renew-certificates', host.name, 'waiting', 'WaitingApi', `API answered HTTP ${api.status} through the load balancer`);
    await sleep('5 seconds');
  }
}

/** The steps of RotateCertificateKey, in order (names in ROTATION_STEPS). */
export const ROTATION_STEP_TABLE: readonly Step<RotationContext>[] = [
  {
    name: 'select-host',
    description: 'Probe control-plane hosts in order (SSH, local API server, CA keys present); the first that answers uploads; the others are reported with a reason.',
    async run(ctx) {
      const host = await selectHost(ctx);
      ctx.tracker.setStep('select-host', 'running', 'Selected', ctx.skipped.length ? `${host.name} (skipped ${ctx.skipped.map((s) => s.host).join(', ')})` : host.name);
    },
  },
  {
    name: 'rotate-key',
    description: 'Holding the cluster lock: kubeadm certs certificate-key, upload-certs with the key in a 0600 config file, verify Secret kubeadm-certs opens with it and not with the previous key, store key and expiry.',
    skipReason: (ctx) => (ctx.config.dryRun ? 'dry run: would upload the control-plane certificates under a new key' : undefined),
    async run(ctx) {
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
          onWaiting: () => ctx.tracker.setStep(step, 'waiting', 'WaitingForClusterLock', 'a control-plane join or another key upload of this cluster runs; waiting for it to finish'),
          onAcquired: () => ctx.tracker.setStep(step, 'running', 'Uploading', `on ${host.name}`),
        },
      );
      ctx.key = key;
      ctx.tracker.setFact('certificate key expires', key.expiresAt);
      const message = key.rotated
        ? `new key uploaded at ${key.uploadedAt}, valid until ${key.expiresAt}${key.previousKeyRejected ? '; previous key verified rejected' : ''}`
        : `kept the key uploaded at ${key.uploadedAt} (valid until ${key.expiresAt})`;
      ctx.tracker.setStep(step, 'running', key.rotated ? 'Rotated' : 'KeptRecentKey', message);
    },
  },
  {
    name: 'check-expiration',
    description: 'kubeadm certs check-expiration -o json on every control-plane host that answers; report the soonest expiry.',
    async run(ctx) {
      const step = 'check-expiration';
      ctx.certificates = [];
      for (const host of ctx.candidates) {
        const skip = ctx.skipped.find((s) => s.host === host.name);
        if (skip) {
          ctx.tracker.setHost(step, host.name, 'skipped', 'Unhealthy', skip.reason);
          continue;
        }
        try {
          const certs = await probes.certificateExpiration.executeWithOptions({ summary: `certificate expiry on ${host.name}` }, [{ host }]);
          ctx.certificates.push(certs);
          ctx.tracker.setHost(step, host.name, 'done', 'Checked', certs.soonest ? `${certs.soonest.name} expires first, at ${certs.soonest.expiresAt}` : 'no kubeadm-managed certificates found');
        } catch (err) {
          ctx.tracker.setHost(step, host.name, 'failed', failureType(err) ?? 'Error', (err as Error).message);
          throw err;
        }
      }
      const soonest = soonestOf(ctx.certificates);
      if (soonest) ctx.tracker.setFact('soonest certificate expiry', `${soonest.name} on ${soonest.host}: ${soonest.expiresAt}`);
      ctx.tracker.setStep(step, 'running', 'Checked', soonest ? `soonest: ${soonest.name} on ${soonest.host} at ${soonest.expiresAt}` : 'nothing to report');
    },
  },
  {
    name: 'renew-certificates',
    description: 'When a certificate expires within the threshold: kubeadm certs renew all and a restart of the static pods, one host at a time (holding the cluster lock), the API verified through the load balancer after each.',
    skipReason(ctx) {
      if (!ctx.config.certificates.enabled) return 'renewal disabled in the input (report only)';
      const limit = Date.now() + ctx.config.certificates.thresholdDays * DAY_MS;
      const due = ctx.certificates.filter((h) => h.soonest && Date.parse(h.soonest.expiresAt) < limit);
      if (due.length === 0) return `no certificate expires within ${ctx.config.certificates.thresholdDays} days`;
      if (ctx.config.dryRun) return `dry run: would renew the certificates of ${due.map((h) => h.host).join(', ')}`;
      return undefined;
    },
    async run(ctx) {
      const step = 'renew-certificates';
      const settings = ctx.config.certificates;
      const renewIfExpiresBefore = new Date(Date.now() + settings.thresholdDays * DAY_MS).toISOString();
      const due = ctx.candidates.filter((host) => {
        const certs = ctx.certificates.find((c) => c.host === host.name);
        return certs?.soonest !== undefined && Date.parse(certs.soonest.expiresAt) < Date.parse(renewIfExpiresBefore);
      });
      due.forEach((h) => ctx.tracker.setHost(step, h.name, 'pending', 'Queued', 'hosts are renewed one at a time'));
      // One host at a time: each restart takes that host's API server and etcd member down for a while.
      for (const host of due) {
        if (ctx.renewed.includes(host.name)) continue;
        await withClusterLock(
          ctx.config.clusterName,
          `renew certificates of ${host.name} and restart its control plane`,
          async () => {
            ctx.tracker.setHost(step, host.name, 'running', 'Renewing', 'kubeadm certs renew all; restarting static pods');
            const result = await rotation.renewCertificates.executeWithOptions({ summary: `renew certificates on ${host.name}` }, [
              { clusterName: ctx.config.clusterName, host, renewIfExpiresBefore, restartWaitSeconds: settings.restartWaitSeconds, apiTimeoutSeconds: settings.apiTimeoutSeconds },
            ]);
            await verifyApi(ctx, host);
            ctx.renewed.push(host.name);
            ctx.tracker.setHost(step, host.name, 'done', result.renewed ? 'Renewed' : 'AlreadyRenewed', `${result.restarted.length} static pods restarted; soonest expiry now ${result.soonestExpiresAt ?? 'unknown'}; API answers through the load balancer`);
          },
          { timeout: `${ctx.config.lockTimeoutMinutes} minutes`, onWaiting: () => ctx.tracker.setHost(step, host.name, 'waiting', 'WaitingForClusterLock', 'a control-plane join of this cluster runs') },
        );
      }
      ctx.tracker.setStep(step, 'running', 'Renewed', `renewed ${ctx.renewed.join(', ')}`);
    },
  },
];
