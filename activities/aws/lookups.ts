/**
 * Read-only look-ups for the load balancer step: the load balancer, target group and listeners as
 * AWS has them, and the VPC of the input's subnets. "Not found" is an answer here, not an error.
 */
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { AwsSettings } from '../../common/inputs/shared';
import type { AwsClients } from './clients';
import { awsCall, isAwsError } from './awsErrors';

/** How to find a load balancer: by ARN (adopt) or by name. */
export type LoadBalancerKey = { arn: string } | { name: string };

/** The load balancer with that ARN or name, or undefined when there is none. */
export async function findLoadBalancer(clients: AwsClients, key: LoadBalancerKey): Promise<LoadBalancer | undefined> {
  const params = 'arn' in key ? { LoadBalancerArns: [key.arn] } : { Names: [key.name] };
  try {
    const out = await awsCall('DescribeLoadBalancers', (o) => clients.elbv2.send(new DescribeLoadBalancersCommand(params), o));
    return out.LoadBalancers?.[0];
  } catch (err) {
    if (isAwsError(err, 'LoadBalancerNotFound')) return undefined;
    throw err;
  }
}

/** The target group with that name, or undefined when there is none. */
export async function findTargetGroup(clients: AwsClients, name: string): Promise<TargetGroup | undefined> {
  try {
    const out = await awsCall('DescribeTargetGroups', (o) => clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }), o));
    return out.TargetGroups?.[0];
  } catch (err) {
    if (isAwsError(err, 'TargetGroupNotFound')) return undefined;
    throw err;
  }
}

/** Every listener of the load balancer (an NLB has at most 50, so one page). */
export async function listenersOf(clients: AwsClients, loadBalancerArn: string): Promise<Listener[]> {
  const out = await awsCall('DescribeListeners', (o) =>
    clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, PageSize: 400 }), o),
  );
  return out.Listeners ?? [];
}

/**
 * The VPC a new target group belongs to: `aws.vpcId` when given, else the VPC of the subnets.
 * All subnets must be in one VPC (an NLB lives in one), and in `aws.vpcId` when that is set.
 */
export async function vpcOfSubnets(clients: AwsClients, aws: AwsSettings): Promise<string> {
  let subnets;
  try {
    const out = await awsCall('DescribeSubnets', (o) => clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: aws.subnetIds }), o));
    subnets = out.Subnets ?? [];
  } catch (err) {
    if (isAwsError(err, 'InvalidSubnetID.NotFound', 'InvalidSubnetID.Malformed')) {
      throw kubehaFailure({
        type: ErrorType.InvalidInput,
        retryable: false,
        message: `aws.subnetIds: ${(err as Error).message}`,
        hint: `Check aws.subnetIds against the subnets of region ${aws.region} (aws ec2 describe-subnets).`,
        cause: err as Error,
      });
    }
    throw err;
  }
  const vpcs = new Set(subnets.map((s) => s.VpcId));
  if (vpcs.size !== 1) {
    const where = subnets.map((s) => `${s.SubnetId} in ${s.VpcId}`).join(', ');
    throw kubehaFailure({
      type: ErrorType.InvalidInput,
      retryable: false,
      message: `aws.subnetIds span ${vpcs.size} VPCs (${where}); a load balancer lives in one VPC`,
      hint: 'List subnets of one VPC only, one per availability zone.',
    });
  }
  const [vpcId] = [...vpcs] as string[];
  if (aws.vpcId !== undefined && aws.vpcId !== vpcId) {
    throw kubehaFailure({
      type: ErrorType.InvalidInput,
      retryable: false,
      message: `aws.vpcId is ${aws.vpcId} but aws.subnetIds are in ${vpcId}`,
      hint: 'Fix aws.vpcId, or leave it out and kubeha takes the VPC of the subnets.',
    });
  }
  return vpcId;
}
