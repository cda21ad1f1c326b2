/**
 * RecoverControlPlane: a stacked etcd that lost quorum (west lost the zone holding its majority) gets
 * it back. After a precheck that quorum is really lost and an operator's approval, the surviving member
 * with the most of the log becomes a one-member cluster on its own data and serves the API through the
 * load balancer; the lost members rejoin one at a time as they come back; the cluster is verified the
 * way BootstrapStackedEtcd verifies it.
 */
import { setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { RECOVER_STEPS, recoverControlPlaneInputSchema } from '../../common/inputs/recoverControlPlane';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { parseInput } from '../../common/validation';
import { verify } from '../bootstrap/verify';
import { progressQuery, ProgressTracker } from '../engine/progress';
import { runStepTable, type Step } from '../engine/steps';
import { nameIn } from '../engine/subject';
import { approveStep, installApprovalHandlers } from './approve';
import { type RecoverContext, recoverContext, survivorContext } from './data';
import { precheckStep } from './precheck';
import { rejoinStep } from './rejoin';
import { restoreStep } from './restore';
import { type RecoverResult, resultOf } from './result';
import { returnSpareSkipReason, returnSpareStep } from './returnSpare';
import { verifyServingStep } from './verifyServing';

export type { RecoverResult } from './result';

/** Steps after a refusal or a rejection have nothing to do. */
const unlessStopped = (ctx: RecoverContext): string | undefined => (ctx.stop ? `nothing restored (${ctx.stop.outcome}: ${ctx.stop.reason})` : undefined);

/** The steps of RecoverControlPlane, in order (names in RECOVER_STEPS). */
export const RECOVER_STEP_TABLE: readonly Step<RecoverContext>[] = [
  {
    name: 'precheck',
    description:
      'etcdctl endpoint status on every voter, over precheck.windowSeconds: refused when a member follows a leader or an API target is healthy for the whole window; at least one member must answer, unless the input names a backup to restore (snapshot).',
    run: precheckStep,
  },
  {
    name: 'approve',
    description: 'Waits for an "approve" or "reject" signal (approval.required); nobody answering in time means no restore.',
    skipReason: (ctx) => unlessStopped(ctx) ?? (ctx.config.approval.required ? undefined : 'approval.required is false'),
    run: approveStep,
  },
  {
    name: 'restore',
    description:
      'Asks again, picks the answering member with the highest raft index, and under the cluster lock makes it a one-member cluster (--force-new-cluster, then the manifest put back); with no member answering, restores the newest S3 backup on snapshot.host (etcdutl snapshot restore); lost control planes leave the load balancer, the survivor joins it.',
    skipReason: unlessStopped,
    run: restoreStep,
  },
  {
    name: 'verify-serving',
    description: "The survivor's target healthy, /readyz 200 and a write read back through the load balancer; the revisions before and after recorded.",
    skipReason: unlessStopped,
    run: verifyServingStep,
  },
  {
    name: 'rejoin',
    description:
      'Each lost voter, as it answers over SSH again: stale state repaired (Node deleted, kubeadm reset -f), joined under the cluster lock, checked.',
    skipReason: unlessStopped,
    run: rejoinStep,
  },
  {
    name: 'return-spare',
    description: 'A spare that served as the survivor leaves the load balancer once every control plane is a healthy target.',
    skipReason: returnSpareSkipReason,
    run: returnSpareStep,
  },
  {
    name: 'verify',
    description:
      "BootstrapStackedEtcd's verify: Nodes Ready, etcd members exactly the voters, targets healthy, no spare registered, /readyz through the load balancer.",
    skipReason: unlessStopped,
    run: (ctx) => {
      // The cluster's own view (the input's primary is a member again); the load balancer and cluster found once.
      const joins = survivorContext(ctx);
      return verify({ ...ctx.cluster, lb: joins.lb, init: joins.init, join: joins.join });
    },
  },
];

/** Restores a cluster's etcd quorum. Takes ONE object (the Web UI form's one value). */
export async function RecoverControlPlane(rawInput: unknown): Promise<RecoverResult> {
  const name = nameIn(rawInput, 'cluster', 'clusterName');
  const tracker = new ProgressTracker('RecoverControlPlane', name !== undefined ? `cluster ${name}` : 'cluster (unnamed)', RECOVER_STEPS);
  setHandler(progressQuery, () => tracker.progress);
  installApprovalHandlers();
  const config = parseInput('RecoverControlPlane', recoverControlPlaneInputSchema, rawInput);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.cluster, value: config.cluster.clusterName }]);
  const context = recoverContext(config, tracker);
  await runStepTable(RECOVER_STEP_TABLE, context, tracker, config);
  tracker.setPhase('succeeded');
  if (context.stop) tracker.setFact('outcome', `${context.stop.outcome}: ${context.stop.reason}`);
  return resultOf(context);
}
