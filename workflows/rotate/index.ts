/**
 * RotateCertificateKey: keeps a valid certificate key available for control-plane joins. The uploaded
 * control-plane certificates (Secret kube-system/kubeadm-certs) live 2 hours; run on a Temporal
 * Schedule (`kubeha schedule rotate`), this uploads them again under a new key before the old upload
 * lapses. On the same run it reports certificate expiry and renews what is close to expiring, one
 * control-plane host at a time, verifying the API through the load balancer after each.
 *
 * With `meshIssuer`, the cluster's Linkerd issuer (made by LinkMeshClusters) joins the expiry watch and
 * is renewed from the pair's trust anchor, with a restart of linkerd-identity.
 *
 * Key uploads and renewals hold the cluster's lock: a new key would break a control-plane join that
 * is using the previous one.
 */
import { setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { ROTATION_STEPS, rotateCertificateKeyInputSchema } from '../../common/inputs/rotateCertificateKey';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { parseInput } from '../../common/validation';
import { progressQuery, ProgressTracker } from '../engine/progress';
import { runStepTable, type Step } from '../engine/steps';
import { clusterSubject } from '../engine/subject';
import { checkExpiration } from './checkExpiration';
import { type RotationContext, rotationContext } from './data';
import { checkMeshIssuer, meshCheckSkipReason, meshRenewalSkipReason, renewMeshIssuer } from './meshIssuer';
import { renewalSkipReason, renewCertificates } from './renewCertificates';
import { resultOf, type RotationResult } from './result';
import { rotateKey } from './rotateKey';
import { selectHostStep } from './selectHost';

export type { RotationResult } from './result';

/** The steps of RotateCertificateKey, in order (names in ROTATION_STEPS). */
export const ROTATION_STEP_TABLE: readonly Step<RotationContext>[] = [
  {
    name: 'select-host',
    description:
      'Probe control-plane hosts in order (SSH, local API server, CA keys present); the first that answers uploads; the others are reported with a reason.',
    run: selectHostStep,
  },
  {
    name: 'rotate-key',
    description:
      'Holding the cluster lock: kubeadm certs certificate-key, upload-certs with the key in a 0600 config file, verify Secret kubeadm-certs opens with it and not with the previous key, store key and expiry.',
    skipReason: (ctx) => (ctx.config.dryRun ? 'dry run: would upload the control-plane certificates under a new key' : undefined),
    run: rotateKey,
  },
  {
    name: 'check-expiration',
    description: 'kubeadm certs check-expiration -o json on every control-plane host that answers; report the soonest expiry.',
    run: checkExpiration,
  },
  {
    name: 'renew-certificates',
    description:
      'When a certificate expires within the threshold: kubeadm certs renew all and a restart of the static pods, one host at a time (holding the cluster lock), the API verified through the load balancer after each.',
    skipReason: renewalSkipReason,
    run: renewCertificates,
  },
  {
    name: 'check-mesh-issuer',
    description:
      "With meshIssuer in the input: read the cluster's Linkerd issuer from Secret linkerd/linkerd-identity-issuer; warn when it expires within the threshold (default 60 days, as linkerd check).",
    skipReason: meshCheckSkipReason,
    run: checkMeshIssuer,
  },
  {
    name: 'renew-mesh-issuer',
    description:
      "When the Linkerd issuer is due: a new issuer signed by the pair's anchor from the secret store, written into the issuer Secret and stored, linkerd-identity restarted (restartedAt) and rolled out, the issuer read again. Adopted trust is never renewed: a warning.",
    skipReason: meshRenewalSkipReason,
    run: renewMeshIssuer,
  },
];

/** Rotates the certificate key of one cluster. Takes ONE object (the Web UI form's one value). */
export async function RotateCertificateKey(rawInput: unknown): Promise<RotationResult> {
  const tracker = new ProgressTracker('RotateCertificateKey', clusterSubject(rawInput), ROTATION_STEPS);
  setHandler(progressQuery, () => tracker.progress);
  const config = parseInput('RotateCertificateKey', rotateCertificateKeyInputSchema, rawInput);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: config.clusterName }]);
  const context = rotationContext(config, tracker);
  await runStepTable(ROTATION_STEP_TABLE, context, tracker, config);
  tracker.setPhase('succeeded');
  return resultOf(context);
}
