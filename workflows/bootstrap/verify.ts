/**
 * Step verify: the facts read once (Nodes, etcd members, targets, the API through the load balancer),
 * then the check records of common/bootstrapChecks.ts; a failure names every problem and carries the
 * hint of each failing check.
 */
import { BOOTSTRAP_CHECKS, type BootstrapFacts } from '../../common/bootstrapChecks';
import { type CheckResult, checkLines, fatalFailures, runChecks } from '../../common/checks';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { aws, hosts, kube } from '../engine/activities';
import { initialized } from './cluster';
import type { BootstrapContext } from './data';
import { loadBalancer } from './loadBalancer';

export async function verify(ctx: BootstrapContext): Promise<void> {
  const failed = fatalFailures(await verifyCluster(ctx));
  if (failed.length) {
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      message: failed.flatMap((r) => r.problems).join('; '),
      retryable: false,
      hint: `${failed.map((r) => `${r.description}: ${r.hint}`).join(' | ')}; fix it (or let a transient one settle) and run verify again`,
      details: { checks: checkLines(failed) },
    });
  }
  ctx.tracker.setStep('verify', 'running', 'Verified', 'nodes Ready, etcd healthy, targets healthy, API answers through the load balancer');
}

/** Reads the facts once, in the same order as ever (Nodes, etcd, targets, the API), and runs the checks on them. */
async function verifyCluster(ctx: BootstrapContext): Promise<CheckResult[]> {
  const lb = await loadBalancer(ctx);
  const init = await initialized(ctx);
  const nodes = await kube.listNodes({ kubeconfigSecret: init.kubeconfigSecret });
  const members = await hosts.etcdMembers({ host: ctx.primary });
  const targets = await aws.describeTargetHealth({ aws: ctx.config.aws, targetGroupArn: lb.targetGroupArn });
  const api = await kube.apiReady({ kubeconfigSecret: init.kubeconfigSecret });
  ctx.tracker.setFact(
    'verified',
    `${nodes.length} nodes, ${members.length} etcd members, ${targets.filter((t) => t.state === 'healthy').length} healthy targets`,
  );
  const facts: BootstrapFacts = {
    hosts: ctx.config.hosts,
    servingControlPlanes: [ctx.primary, ...ctx.secondaries],
    spares: ctx.spares,
    nodes,
    members,
    targets,
    api,
  };
  return runChecks(BOOTSTRAP_CHECKS, facts);
}
