/**
 * The AWS SDK clients the AWS activities use, and the default way to build them.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsSettings } from '../../common/inputs/shared';

/** The clients for one region (and endpoint). */
export interface AwsClients {
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
}

/** Builds (or reuses) the clients for the region and endpoint of the given settings. */
export type AwsClientFactory = (aws: AwsSettings) => AwsClients;

const cache = new Map<string, AwsClients>();

/**
 * The worker's clients: credentials from the SDK's default chain (environment, shared config and
 * SSO, instance or container role), region from `aws.region`, and `aws.endpoint` when set (VPC
 * endpoints, moto). Clients are kept per region and endpoint, so their connection pools and
 * credential caches live across activity calls.
 */
export function defaultAwsClients(aws: AwsSettings): AwsClients {
  const key = `${aws.region}|${aws.endpoint ?? ''}`;
  let clients = cache.get(key);
  if (!clients) {
    const config = { region: aws.region, ...(aws.endpoint ? { endpoint: aws.endpoint } : {}) };
    clients = { elbv2: new ElasticLoadBalancingV2Client(config), ec2: new EC2Client(config) };
    cache.set(key, clients);
  }
  return clients;
}
