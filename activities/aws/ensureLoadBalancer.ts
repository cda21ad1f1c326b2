/**
 * ensureLoadBalancer: the API's internal NLB, its TCP 6443 target group with IP targets, and the
 * TCP 6443 listener that forwards to it. Looks at everything first and checks it against the input,
 * so a conflict leaves nothing half-built; then creates only what is missing, waits until the load
 * balancer is active, and verifies the listener. An adopted load balancer is never modified.
 *
 * A dry run does the same look-ups and checks (so it reports conflicts too) but creates nothing:
 * what it would create comes back as `dry-run:` placeholders, with `created` all false and the
 * plan in `notes`.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ModifyTargetGroupCommand,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { EnsureLoadBalancerInput, LoadBalancerInfo } from '../types';
import { heartbeat } from '../activityContext';
import { awsCall } from './awsErrors';
import { API_HEALTH_CHECK, API_PORT, checkApiListener, checkLoadBalancer, checkTargetGroup, healthCheckDrift, type HealthCheckDrift } from './checks';
import type { AwsClients } from './clients';
import type { ResolvedAwsDependencies } from './dependencies';
import { findLoadBalancer, findTargetGroup, listenersOf, vpcOfSubnets } from './lookups';
import { kubehaTags, ownershipOf, tagsOf, type Ownership } from './tags';
import { waitUntilActive } from './waitUntilActive';

/** Placeholder ARNs of a dry run start with this, so nothing mistakes them for real ones. */
export const DRY_RUN_PREFIX = 'dry-run:';

/** True for the placeholder ARNs and DNS name a dry run returns for objects it would create. */
export function isDryRunPlaceholder(value: string): boolean {
  return value.startsWith(DRY_RUN_PREFIX) || value.endsWith('.dry-run.invalid');
}

/**
 * The target group's name when the input gives none: the load balancer's name and "-api",
 * shortened to AWS's 32 characters (and never with "--", which AWS refuses).
 */
export function defaultTargetGroupName(loadBalancerName: string): string {
  return `${loadBalancerName.replace(/-{2,}/g, '-').slice(0, 28).replace(/-+$/, '')}-api`;
}

/** What the look-ups found, after every check passed. */
interface Found {
  lb?: LoadBalancer;
  tg?: TargetGroup;
  tgOwnership?: Ownership;
  drift: HealthCheckDrift[];
  listener?: Listener;
  vpcId: string;
}

function describeLb(lb: LoadBalancer): string {
  return `${lb.Scheme} ${lb.Type} load balancer in ${lb.VpcId}, ${lb.State?.Code ?? 'state unknown'}, DNS ${lb.DNSName}`;
}

function describeDrift(drift: HealthCheckDrift[]): string {
  return drift.map((d) => `${d.field} ${d.actual} -> ${d.expected}`).join(', ');
}

/** Finds and checks everything; throws a Conflict on the first contradiction. */
async function lookAround(clients: AwsClients, input: EnsureLoadBalancerInput, tgName: string, notes: string[]): Promise<Found> {
  const { clusterName, loadBalancer: settings } = input;
  const adopt = settings.adopt;
  const lb = await findLoadBalancer(clients, adopt ?? { name: settings.name });
  if (adopt && !lb) {
    const which = 'arn' in adopt ? `ARN ${adopt.arn}` : `name "${adopt.name}"`;
    throw kubehaFailure({
      type: ErrorType.Conflict,
      retryable: false,
      message: `loadBalancer.adopt names a load balancer that does not exist in ${input.aws.region}: ${which}`,
      hint: 'Check the ARN or name and aws.region (aws elbv2 describe-load-balancers), or leave loadBalancer.adopt out to let kubeha create one.',
      details: { object: 'load balancer', field: 'adopt', expected: which, actual: '(not found)' },
    });
  }
  if (lb) {
    const ownership = ownershipOf(await tagsOf(clients, lb.LoadBalancerArn ?? ''), clusterName);
    checkLoadBalancer(lb, { clusterName, adopted: adopt !== undefined, ownership, vpcId: input.aws.vpcId });
    notes.push(
      adopt
        ? `load balancer "${lb.LoadBalancerName}" adopted (${describeLb(lb)}); kubeha does not modify it`
        : `load balancer "${lb.LoadBalancerName}" already there (${describeLb(lb)})`,
    );
  }
  const vpcId = lb?.VpcId ?? (await vpcOfSubnets(clients, input.aws));

  const tg = await findTargetGroup(clients, tgName);
  let tgOwnership: Ownership | undefined;
  let drift: HealthCheckDrift[] = [];
  if (tg) {
    tgOwnership = ownershipOf(await tagsOf(clients, tg.TargetGroupArn ?? ''), clusterName);
    checkTargetGroup(tg, { clusterName, ownership: tgOwnership, vpcId, loadBalancerArn: lb?.LoadBalancerArn });
    drift = healthCheckDrift(tg, settings.targetGroup.healthCheck);
    const whose = tgOwnership.kind === 'ours' ? '' : ', not created by kubeha: used as it is';
    notes.push(`target group "${tgName}" already there (TCP ${API_PORT}, ip targets, ${vpcId}${whose})`);
  }

  const listener = lb
    ? checkApiListener(await listenersOf(clients, lb.LoadBalancerArn ?? ''), { arn: tg?.TargetGroupArn, name: tgName }, lb.LoadBalancerName ?? '')
    : undefined;
  if (listener) notes.push(`listener TCP ${API_PORT} already forwards to target group "${tgName}"`);
  return { lb, tg, tgOwnership, drift, listener, vpcId };
}

function healthCheckParams(input: EnsureLoadBalancerInput) {
  const hc = input.loadBalancer.targetGroup.healthCheck;
  return {
    HealthCheckEnabled: true,
    HealthCheckProtocol: API_HEALTH_CHECK.protocol,
    HealthCheckPath: API_HEALTH_CHECK.path,
    HealthCheckPort: API_HEALTH_CHECK.port,
    Matcher: { HttpCode: API_HEALTH_CHECK.httpCode },
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
  };
}

function describeHealthCheck(input: EnsureLoadBalancerInput): string {
  const hc = input.loadBalancer.targetGroup.healthCheck;
  return `health check HTTPS GET ${API_HEALTH_CHECK.path} every ${hc.intervalSeconds} s, timeout ${hc.timeoutSeconds} s, ${hc.healthyThreshold} healthy / ${hc.unhealthyThreshold} unhealthy`;
}

/** A dry run: what exists is reported as it is, what is missing as a placeholder that names it. */
function dryRunInfo(input: EnsureLoadBalancerInput, found: Found, tgName: string, notes: string[]): LoadBalancerInfo {
  const name = input.loadBalancer.name;
  if (!found.lb) notes.push(`dry run: would create internal network load balancer "${name}" in ${found.vpcId} (subnets ${input.aws.subnetIds.join(', ')})`);
  if (!found.tg) notes.push(`dry run: would create target group "${tgName}" (TCP ${API_PORT}, ip targets, ${describeHealthCheck(input)})`);
  if (found.tg && found.drift.length > 0 && found.tgOwnership?.kind === 'ours')
    notes.push(`dry run: would update the health check of "${tgName}": ${describeDrift(found.drift)}`);
  if (!found.listener) notes.push(`dry run: would create listener TCP ${API_PORT} forwarding to "${tgName}"`);
  return {
    loadBalancerArn: found.lb?.LoadBalancerArn ?? `${DRY_RUN_PREFIX}loadbalancer/net/${name}`,
    dnsName: found.lb?.DNSName ?? `${name}.dry-run.invalid`,
    targetGroupArn: found.tg?.TargetGroupArn ?? `${DRY_RUN_PREFIX}targetgroup/${tgName}`,
    listenerArn: found.listener?.ListenerArn ?? `${DRY_RUN_PREFIX}listener/${name}/${API_PORT}`,
    created: { loadBalancer: false, targetGroup: false, listener: false },
    notes,
  };
}

/** The ensureLoadBalancer activity. */
export async function ensureLoadBalancer(deps: ResolvedAwsDependencies, input: EnsureLoadBalancerInput): Promise<LoadBalancerInfo> {
  const clients = deps.clientsFor(input.aws);
  const settings = input.loadBalancer;
  const tgName = settings.targetGroup.name ?? defaultTargetGroupName(settings.name);
  const tags = kubehaTags(input.clusterName);
  const notes: string[] = [];

  const found = await lookAround(clients, input, tgName, notes);
  if (input.dryRun) return dryRunInfo(input, found, tgName, notes);
  const created = { loadBalancer: false, targetGroup: false, listener: false };

  // The target group first: it needs only the VPC, and if AWS refuses it no load balancer is left behind.
  let tg = found.tg;
  if (!tg) {
    const out = await awsCall('CreateTargetGroup', (o) =>
      clients.elbv2.send(
        new CreateTargetGroupCommand({
          Name: tgName,
          Protocol: 'TCP',
          Port: API_PORT,
          TargetType: 'ip',
          VpcId: found.vpcId,
          ...healthCheckParams(input),
          Tags: tags,
        }),
        o,
      ),
    );
    tg = out.TargetGroups?.[0];
    if (!tg?.TargetGroupArn)
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        retryable: true,
        message: `CreateTargetGroup returned no target group for "${tgName}"`,
        hint: 'The next attempt looks again.',
      });
    created.targetGroup = true;
    notes.push(`target group "${tgName}" created (TCP ${API_PORT}, ip targets, ${describeHealthCheck(input)})`);
    heartbeat({ created: 'target group' });
  } else if (found.drift.length > 0) {
    if (found.tgOwnership?.kind === 'ours') {
      await awsCall('ModifyTargetGroup', (o) =>
        clients.elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: tg?.TargetGroupArn, ...healthCheckParams(input) }), o),
      );
      notes.push(`target group "${tgName}": health check updated (${describeDrift(found.drift)})`);
    } else {
      const tcpOnly = found.drift.some((d) => d.field === 'HealthCheckProtocol');
      notes.push(
        `target group "${tgName}": health check differs from the input (${describeDrift(found.drift)}); kubeha leaves a target group it did not create as it is` +
          (tcpOnly
            ? `: with a ${found.tg?.HealthCheckProtocol} check an API server whose etcd lost quorum stays in the load balancer; set HTTPS GET ${API_HEALTH_CHECK.path} on it`
            : ''),
      );
    }
  }
  const tgArn = tg.TargetGroupArn ?? '';

  let lb = found.lb;
  if (!lb) {
    const out = await awsCall('CreateLoadBalancer', (o) =>
      clients.elbv2.send(
        new CreateLoadBalancerCommand({
          Name: settings.name,
          Type: 'network',
          Scheme: 'internal',
          IpAddressType: 'ipv4',
          Subnets: input.aws.subnetIds,
          Tags: tags,
        }),
        o,
      ),
    );
    lb = out.LoadBalancers?.[0];
    if (!lb?.LoadBalancerArn)
      throw kubehaFailure({
        type: ErrorType.VerificationFailed,
        retryable: true,
        message: `CreateLoadBalancer returned no load balancer for "${settings.name}"`,
        hint: 'The next attempt looks again.',
      });
    created.loadBalancer = true;
    notes.push(`load balancer "${settings.name}" created (internal network load balancer in ${found.vpcId}, subnets ${input.aws.subnetIds.join(', ')})`);
    heartbeat({ created: 'load balancer' });
  }
  const lbArn = lb.LoadBalancerArn ?? '';

  if (!found.listener) {
    await awsCall('CreateListener', (o) =>
      clients.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: 'TCP',
          Port: API_PORT,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }],
          Tags: tags,
        }),
        o,
      ),
    );
    created.listener = true;
    notes.push(`listener TCP ${API_PORT} created, forwarding to target group "${tgName}"`);
  }

  lb = await waitUntilActive(deps, clients, lbArn, notes);
  // Verify: the listener AWS now lists on 6443 forwards to the target group, and nothing else.
  const listener = checkApiListener(await listenersOf(clients, lbArn), { arn: tgArn, name: tgName }, lb.LoadBalancerName ?? settings.name);
  if (!listener?.ListenerArn) {
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      retryable: true,
      message: `load balancer "${lb.LoadBalancerName}" has no listener on ${API_PORT} after kubeha created one`,
      hint: 'Someone removed it meanwhile; the next attempt creates it again.',
    });
  }
  return { loadBalancerArn: lbArn, dnsName: lb.DNSName ?? '', targetGroupArn: tgArn, listenerArn: listener.ListenerArn, created, notes };
}

/**
 * The findLoadBalancer activity: the load balancer ensureLoadBalancer made or adopted, found and
 * checked the same way, or null when any of load balancer, target group or listener is missing.
 * Creates and changes nothing: steps other than ensure-load-balancer only read it.
 */
export async function findExistingLoadBalancer(deps: ResolvedAwsDependencies, input: EnsureLoadBalancerInput): Promise<LoadBalancerInfo | null> {
  const clients = deps.clientsFor(input.aws);
  const tgName = input.loadBalancer.targetGroup.name ?? defaultTargetGroupName(input.loadBalancer.name);
  const notes: string[] = [];
  const found = await lookAround(clients, input, tgName, notes);
  if (!found.lb?.LoadBalancerArn || !found.tg?.TargetGroupArn || !found.listener?.ListenerArn) return null;
  return {
    loadBalancerArn: found.lb.LoadBalancerArn,
    dnsName: found.lb.DNSName ?? '',
    targetGroupArn: found.tg.TargetGroupArn,
    listenerArn: found.listener.ListenerArn,
    created: { loadBalancer: false, targetGroup: false, listener: false },
    notes,
  };
}
