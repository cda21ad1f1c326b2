/**
 * How kubeha marks what it creates in AWS, and reads the mark back: `kubeha:cluster=<name>` says
 * which cluster owns the object, `kubeha:managed=true` that kubeha created it (and may change it).
 */
import { DescribeTagsCommand, type Tag } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from './clients';
import { awsCall } from './awsErrors';

/** The tag naming the owning cluster. */
export const CLUSTER_TAG = 'kubeha:cluster';
/** The tag saying kubeha created the object. */
export const MANAGED_TAG = 'kubeha:managed';

/** The tags kubeha puts on every object it creates for the cluster. */
export function kubehaTags(clusterName: string): Tag[] {
  return [
    { Key: CLUSTER_TAG, Value: clusterName },
    { Key: MANAGED_TAG, Value: 'true' },
  ];
}

/** Who owns an object, by its tags. */
export type Ownership = { kind: 'ours' } | { kind: 'other-cluster'; cluster: string } | { kind: 'untagged' };

/** Reads the ownership of an object from its tags. */
export function ownershipOf(tags: Record<string, string>, clusterName: string): Ownership {
  const cluster = tags[CLUSTER_TAG];
  if (cluster === undefined) return { kind: 'untagged' };
  return cluster === clusterName ? { kind: 'ours' } : { kind: 'other-cluster', cluster };
}

/** The tags of one ELBv2 object (load balancer, target group, listener) as a map. */
export async function tagsOf(clients: AwsClients, arn: string): Promise<Record<string, string>> {
  const out = await awsCall('DescribeTags', (o) => clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }), o));
  const tags: Record<string, string> = {};
  for (const t of out.TagDescriptions?.find((d) => d.ResourceArn === arn)?.Tags ?? []) {
    if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  }
  return tags;
}
