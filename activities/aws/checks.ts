/**
 * What the API's load balancer, target group and listener must be, compared with what AWS has.
 * Anything that contradicts the input fails as a non-retryable Conflict that names the object, the
 * field, what kubeha needs and what it found: kubeha does not rebuild or take over someone else's
 * objects without a human.
 */
import type { Listener, LoadBalancer, TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ApplicationFailure } from '@temporalio/common';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { HealthCheckSettings } from '../types';
import { CLUSTER_TAG, type Ownership } from './tags';

/** The port the Kubernetes API listens on, in the listener and the target group. */
export const API_PORT = 6443;

/** What kubeha found wrong on one object. */
export interface ConflictFacts {
  /** `load balancer "kh-api"`, `target group "kh-api-api"`, `listener on port 6443`. */
  object: string;
  field: string;
  expected: string;
  actual: string;
  hint: string;
}

/** Builds the Conflict failure for one contradicting field. */
export function conflict(facts: ConflictFacts): ApplicationFailure {
  return kubehaFailure({
    type: ErrorType.Conflict,
    retryable: false,
    message: `${facts.object} has ${facts.field} ${JSON.stringify(facts.actual)}, kubeha needs ${JSON.stringify(facts.expected)}`,
    hint: facts.hint,
    details: { object: facts.object, field: facts.field, expected: facts.expected, actual: facts.actual },
  });
}

/** The name of a target group from its ARN (`...:targetgroup/<name>/<id>`). */
export function targetGroupNameOf(arn: string): string {
  return arn.split(':targetgroup/')[1]?.split('/')[0] ?? arn;
}

/** What the load balancer check needs to know besides the load balancer. */
export interface LoadBalancerExpectations {
  clusterName: string;
  adopted: boolean;
  ownership: Ownership;
  /** `aws.vpcId` of the input, when given. */
  vpcId?: string;
}

/** Throws a Conflict when the load balancer cannot serve as the cluster's API load balancer. */
export function checkLoadBalancer(lb: LoadBalancer, want: LoadBalancerExpectations): void {
  const object = `load balancer "${lb.LoadBalancerName}"`;
  const instead = want.adopted
    ? 'Adopt another load balancer, or leave loadBalancer.adopt out to let kubeha create one.'
    : 'Choose another loadBalancer.name, or delete that load balancer if nothing uses it.';
  if (lb.Type !== 'network') {
    throw conflict({
      object,
      field: 'Type',
      expected: 'network',
      actual: lb.Type ?? '',
      hint: `The API needs a Network Load Balancer (TCP ${API_PORT} passthrough). ${instead}`,
    });
  }
  if (lb.Scheme !== 'internal') {
    throw conflict({
      object,
      field: 'Scheme',
      expected: 'internal',
      actual: lb.Scheme ?? '',
      hint: `The API stays inside the VPC: the load balancer must be internal. ${instead}`,
    });
  }
  if (want.vpcId !== undefined && lb.VpcId !== want.vpcId) {
    throw conflict({
      object,
      field: 'VpcId',
      expected: want.vpcId,
      actual: lb.VpcId ?? '',
      hint: `The load balancer is in another VPC than aws.vpcId: fix aws.vpcId if it is wrong. ${instead}`,
    });
  }
  if (lb.State?.Code === 'failed') {
    throw conflict({
      object,
      field: 'State',
      expected: 'active',
      actual: 'failed',
      hint: `AWS could not provision it (${lb.State.Reason ?? 'no reason given'}). ${instead}`,
    });
  }
  if (want.ownership.kind === 'other-cluster') {
    throw conflict({
      object,
      field: `tag ${CLUSTER_TAG}`,
      expected: want.clusterName,
      actual: want.ownership.cluster,
      hint: `It belongs to cluster "${want.ownership.cluster}"; two clusters cannot share an API load balancer. Choose another loadBalancer.name.`,
    });
  }
  if (want.ownership.kind === 'untagged' && !want.adopted) {
    throw conflict({
      object,
      field: `tag ${CLUSTER_TAG}`,
      expected: want.clusterName,
      actual: '(none: not created by kubeha)',
      hint: `To use this existing load balancer, adopt it: set loadBalancer.adopt to {"name": "${lb.LoadBalancerName}"} (kubeha then adds a target group and listener but never modifies it). Otherwise choose another loadBalancer.name.`,
    });
  }
}

/** What the target group check needs to know besides the target group. */
export interface TargetGroupExpectations {
  clusterName: string;
  ownership: Ownership;
  vpcId: string;
  /** The API load balancer, when it exists already. */
  loadBalancerArn?: string;
}

/** Throws a Conflict when the target group cannot hold the API's targets. */
export function checkTargetGroup(tg: TargetGroup, want: TargetGroupExpectations): void {
  const object = `target group "${tg.TargetGroupName}"`;
  const instead = 'Set loadBalancer.targetGroup.name to an unused name (kubeha creates it), or delete that target group if nothing uses it.';
  if (tg.Protocol !== 'TCP') {
    throw conflict({
      object,
      field: 'Protocol',
      expected: 'TCP',
      actual: tg.Protocol ?? '',
      hint: `The API is forwarded as plain TCP (TLS ends at the apiserver). ${instead}`,
    });
  }
  if (tg.Port !== API_PORT) {
    throw conflict({ object, field: 'Port', expected: String(API_PORT), actual: String(tg.Port), hint: `The apiserver listens on ${API_PORT}. ${instead}` });
  }
  if (tg.TargetType !== 'ip') {
    throw conflict({
      object,
      field: 'TargetType',
      expected: 'ip',
      actual: tg.TargetType ?? '',
      hint: `kubeha registers control-plane hosts by IP; IP targets also avoid the hairpin problem of instance targets (client IP is not preserved). ${instead}`,
    });
  }
  if (tg.VpcId !== want.vpcId) {
    throw conflict({
      object,
      field: 'VpcId',
      expected: want.vpcId,
      actual: tg.VpcId ?? '',
      hint: `A target group serves load balancers of its own VPC only. ${instead}`,
    });
  }
  const elsewhere = (tg.LoadBalancerArns ?? []).filter((arn) => arn !== want.loadBalancerArn);
  if (elsewhere.length > 0) {
    throw conflict({
      object,
      field: 'LoadBalancerArns',
      expected: want.loadBalancerArn ?? '(only the API load balancer)',
      actual: elsewhere.join(', '),
      hint: `It already serves another load balancer. ${instead}`,
    });
  }
  if (want.ownership.kind === 'other-cluster') {
    throw conflict({
      object,
      field: `tag ${CLUSTER_TAG}`,
      expected: want.clusterName,
      actual: want.ownership.cluster,
      hint: `It belongs to cluster "${want.ownership.cluster}". Set loadBalancer.targetGroup.name to another name.`,
    });
  }
}

/** One health-check setting that differs from the input. */
export interface HealthCheckDrift {
  field: string;
  actual: string;
  expected: string;
}

/**
 * The API's health check: HTTPS `GET /readyz` on the API port, 200 only. kube-apiserver answers it to
 * anonymous callers (ClusterRole system:public-info-viewer), and answers 500 when its etcd has no quorum:
 * a bare TCP check would keep such a server in the load balancer, serving errors.
 */
export const API_HEALTH_CHECK = { protocol: 'HTTPS', path: '/readyz', port: 'traffic-port', httpCode: '200' } as const;

/** How the target group's health check differs from the input's settings. */
export function healthCheckDrift(tg: TargetGroup, want: HealthCheckSettings): HealthCheckDrift[] {
  const pairs: [string, unknown, string | number][] = [
    ['HealthCheckEnabled', tg.HealthCheckEnabled, 'true'],
    ['HealthCheckProtocol', tg.HealthCheckProtocol, API_HEALTH_CHECK.protocol],
    ['HealthCheckPath', tg.HealthCheckPath, API_HEALTH_CHECK.path],
    ['HealthCheckPort', tg.HealthCheckPort, API_HEALTH_CHECK.port],
    ['Matcher.HttpCode', tg.Matcher?.HttpCode, API_HEALTH_CHECK.httpCode],
    ['HealthCheckIntervalSeconds', tg.HealthCheckIntervalSeconds, want.intervalSeconds],
    ['HealthCheckTimeoutSeconds', tg.HealthCheckTimeoutSeconds, want.timeoutSeconds],
    ['HealthyThresholdCount', tg.HealthyThresholdCount, want.healthyThreshold],
    ['UnhealthyThresholdCount', tg.UnhealthyThresholdCount, want.unhealthyThreshold],
  ];
  return pairs
    .filter(([, actual, expected]) => String(actual) !== String(expected))
    .map(([field, actual, expected]) => ({ field, actual: String(actual), expected: String(expected) }));
}

/** The target groups a listener's default action forwards to. */
export function forwardTargets(listener: Listener): string[] {
  const arns = new Set<string>();
  for (const action of listener.DefaultActions ?? []) {
    if (action.Type !== 'forward') continue;
    if (action.TargetGroupArn) arns.add(action.TargetGroupArn);
    for (const t of action.ForwardConfig?.TargetGroups ?? []) if (t.TargetGroupArn) arns.add(t.TargetGroupArn);
  }
  return [...arns];
}

/**
 * The load balancer's listener on 6443 when it forwards to the target group only; undefined when
 * there is no listener on 6443; a Conflict when one forwards anywhere else or is not TCP.
 */
export function checkApiListener(listeners: Listener[], targetGroup: { arn?: string; name: string }, lbName: string): Listener | undefined {
  const targetGroupArn = targetGroup.arn;
  const listener = listeners.find((l) => l.Port === API_PORT);
  if (!listener) return undefined;
  const object = `listener on port ${API_PORT} of load balancer "${lbName}"`;
  if (listener.Protocol !== 'TCP') {
    throw conflict({
      object,
      field: 'Protocol',
      expected: 'TCP',
      actual: listener.Protocol ?? '',
      hint: `The API needs a plain TCP listener on ${API_PORT}. Remove that listener, or use another load balancer.`,
    });
  }
  const targets = forwardTargets(listener);
  if (targets.length !== 1 || targets[0] !== targetGroupArn) {
    const names = targets.map(targetGroupNameOf);
    const reuse = names.length === 1 ? ` To use target group "${names[0]}" as the API's, set loadBalancer.targetGroup.name to "${names[0]}".` : '';
    throw conflict({
      object,
      field: 'DefaultActions',
      expected: `forward to target group ${targetGroup.name}`,
      actual: targets.length > 0 ? `forward to ${names.join(', ')}` : 'no forward action',
      hint: `Port ${API_PORT} is already taken by a listener that sends traffic elsewhere; kubeha does not change it.${reuse} Otherwise remove that listener or use another load balancer.`,
    });
  }
  return listener;
}
