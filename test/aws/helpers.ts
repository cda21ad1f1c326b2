/**
 * Shared pieces of the AWS tests: inputs built through the real schema, failure assertions, and
 * out-of-band AWS objects the tests create behind kubeha's back.
 */
import assert from 'node:assert/strict';
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type LoadBalancer,
  type Tag,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApplicationFailure } from '@temporalio/common';
import { failureInfo, type FailureInfo } from '../../common/errors';
import { loadBalancerSchema } from '../../common/inputs/bootstrapStackedEtcd';
import type { AwsSettings } from '../../common/inputs/shared';
import type { EnsureLoadBalancerInput } from '../../activities/types';
import type { AwsClients } from '../../activities/aws/clients';

/** An ensureLoadBalancer input with the schema's defaults filled in. */
export function lbInput(aws: AwsSettings, loadBalancer: Record<string, unknown> = {}, extra: Partial<EnsureLoadBalancerInput> = {}): EnsureLoadBalancerInput {
  return { clusterName: 'prod', aws, loadBalancer: loadBalancerSchema.parse({ name: 'kh-api', ...loadBalancer }), ...extra };
}

/** Asserts the promise rejects with a kubeha failure of that type and retryability; returns its info. */
export async function rejectsWithFailure(promise: Promise<unknown>, type: string, retryable: boolean): Promise<{ err: ApplicationFailure; info: FailureInfo }> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(caught)}`);
  assert.equal(caught.type, type, `failure type (message: ${caught.message})`);
  assert.equal(caught.nonRetryable, !retryable, 'nonRetryable');
  const info = failureInfo(caught);
  assert.ok(info, 'failure carries FailureInfo');
  assert.ok(info.hint.length > 20, 'failure carries a hint');
  return { err: caught, info };
}

/** Every load balancer in the region. */
export async function allLoadBalancers(clients: AwsClients): Promise<LoadBalancer[]> {
  return (await clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
}

/** Every target group in the region. */
export async function allTargetGroups(clients: AwsClients): Promise<TargetGroup[]> {
  return (await clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
}

/** One load balancer by ARN. */
export async function loadBalancerByArn(clients: AwsClients, arn: string): Promise<LoadBalancer> {
  const lb = (await clients.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }))).LoadBalancers?.[0];
  assert.ok(lb, `load balancer ${arn} exists`);
  return lb;
}

/** One target group by ARN. */
export async function targetGroupByArn(clients: AwsClients, arn: string): Promise<TargetGroup> {
  const tg = (await clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups?.[0];
  assert.ok(tg, `target group ${arn} exists`);
  return tg;
}

/** The listeners of a load balancer. */
export async function listenersOfLb(clients: AwsClients, lbArn: string) {
  return (await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
}

/** The tags of one object, as a map. */
export async function tagMap(clients: AwsClients, arn: string): Promise<Record<string, string>> {
  const out = await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  return Object.fromEntries((out.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key, t.Value]));
}

/** Creates a load balancer behind kubeha's back, as an operator or another tool would. */
export async function createLbOutOfBand(
  clients: AwsClients,
  params: { name: string; subnetIds: string[]; type?: 'network' | 'application'; scheme?: 'internal' | 'internet-facing'; tags?: Tag[] },
): Promise<LoadBalancer> {
  const out = await clients.elbv2.send(
    new CreateLoadBalancerCommand({
      Name: params.name,
      Subnets: params.subnetIds,
      Type: params.type ?? 'network',
      Scheme: params.scheme ?? 'internal',
      Tags: params.tags,
    }),
  );
  const lb = out.LoadBalancers?.[0];
  assert.ok(lb?.LoadBalancerArn);
  return lb;
}

/** Creates a TCP 6443 target group behind kubeha's back. */
export async function createTgOutOfBand(
  clients: AwsClients,
  params: { name: string; vpcId: string; targetType?: 'ip' | 'instance'; tags?: Tag[] },
): Promise<TargetGroup> {
  const out = await clients.elbv2.send(
    new CreateTargetGroupCommand({
      Name: params.name,
      Protocol: 'TCP',
      Port: 6443,
      VpcId: params.vpcId,
      TargetType: params.targetType ?? 'ip',
      Tags: params.tags,
    }),
  );
  const tg = out.TargetGroups?.[0];
  assert.ok(tg?.TargetGroupArn);
  return tg;
}
