/** Step verify: the cluster as the input describes it, every difference named. */
import { ErrorType, kubehaFailure } from '../../common/errors';
import { aws, hosts, kube } from '../engine/activities';
import { initialized } from './cluster';
import type { BootstrapContext } from './data';
import { loadBalancer } from './loadBalancer';

export async function verify(ctx: BootstrapContext): Promise<void> {
  const problems = await verifyCluster(ctx);
  if (problems.length) {
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      message: problems.join('; '),
      retryable: false,
      hint: 'each problem names the host or member; fix it (or let a transient one settle) and retry the step',
    });
  }
  ctx.tracker.setStep('verify', 'running', 'Verified', 'nodes Ready, etcd healthy, targets healthy, API answers through the load balancer');
}

/** Collects every way the cluster differs from the input, as sentences. */
async function verifyCluster(ctx: BootstrapContext): Promise<string[]> {
  const lb = await loadBalancer(ctx);
  const init = await initialized(ctx);
  const problems: string[] = [];

  const nodes = await kube.listNodes({ kubeconfigSecret: init.kubeconfigSecret });
  for (const host of ctx.config.hosts) {
    const node = nodes.find((n) => n.name === host.name);
    if (!node) problems.push(`node ${host.name} is missing`);
    else if (!node.ready) problems.push(`node ${host.name} is not Ready (${node.reason ?? 'no reason given'})`);
  }

  const etcdHosts = [ctx.primary, ...ctx.secondaries, ...ctx.spares].map((h) => h.name);
  const members = await hosts.etcdMembers({ host: ctx.primary });
  for (const name of etcdHosts) if (!members.some((m) => m.name === name)) problems.push(`etcd has no member ${name}`);
  for (const m of members) {
    if (!etcdHosts.includes(m.name)) problems.push(`etcd member ${m.name || m.id} is not a control-plane host (stale member?)`);
    if (m.isLearner) problems.push(`etcd member ${m.name} is still a learner`);
    if (!m.healthy) problems.push(`etcd member ${m.name} is unhealthy`);
  }

  const targets = await aws.describeTargetHealth({ aws: ctx.config.aws, targetGroupArn: lb.targetGroupArn });
  const expected = [ctx.primary, ...ctx.secondaries];
  for (const host of expected) {
    const target = targets.find((t) => t.ip === host.address);
    if (!target) problems.push(`target ${host.name} (${host.address}) is not registered`);
    else if (target.state !== 'healthy') problems.push(`target ${host.name} is ${target.state}${target.reason ? ` (${target.reason})` : ''}`);
  }
  for (const spare of ctx.spares) if (targets.some((t) => t.ip === spare.address)) problems.push(`spare ${spare.name} is registered in the target group`);
  for (const t of targets) if (![...expected, ...ctx.spares].some((h) => h.address === t.ip)) problems.push(`target ${t.ip} is not a control-plane host`);

  const api = await kube.apiReady({ kubeconfigSecret: init.kubeconfigSecret });
  if (!api.ok) problems.push(`the API does not answer through the load balancer (HTTP ${api.status})`);
  ctx.tracker.setFact('verified', `${nodes.length} nodes, ${members.length} etcd members, ${targets.filter((t) => t.state === 'healthy').length} healthy targets`);
  return problems;
}
