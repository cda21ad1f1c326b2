/**
 * What the data plane reads from moto, through the AWS SDK pointed at moto directly (never through
 * the front, so the front's faults do not blind the data plane).
 */
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  type TargetDescription,
  type TargetGroup,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetHealthRow } from './queryApi';

/** moto takes any credentials; these never leave the machine. */
const MOTO_CREDENTIALS = { accessKeyId: 'kubeha-lab', secretAccessKey: 'kubeha-lab' };

/** The region in an ELBv2 ARN (`arn:aws:elasticloadbalancing:<region>:...`). */
export function regionOfArn(arn: string): string | undefined {
  return arn.split(':')[3] || undefined;
}

/** An SDK client for one region of moto. One attempt per call: the next poll is the retry. */
export function motoElbClient(endpoint: string, region: string): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({ region, endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
}

/** Every load balancer of the region (all pages). */
export async function listLoadBalancers(client: ElasticLoadBalancingV2Client): Promise<LoadBalancer[]> {
  const all: LoadBalancer[] = [];
  let marker: string | undefined;
  do {
    const out = await client.send(new DescribeLoadBalancersCommand({ Marker: marker }));
    all.push(...(out.LoadBalancers ?? []));
    marker = out.NextMarker;
  } while (marker);
  return all;
}

/** Every target group of the region (all pages). */
export async function listTargetGroups(client: ElasticLoadBalancingV2Client): Promise<TargetGroup[]> {
  const all: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const out = await client.send(new DescribeTargetGroupsCommand({ Marker: marker }));
    all.push(...(out.TargetGroups ?? []));
    marker = out.NextMarker;
  } while (marker);
  return all;
}

/** One target group, or undefined when moto has none with that ARN. */
export async function findTargetGroup(client: ElasticLoadBalancingV2Client, arn: string): Promise<TargetGroup | undefined> {
  try {
    return (await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The listeners of one load balancer. */
export async function listListeners(client: ElasticLoadBalancingV2Client, loadBalancerArn: string): Promise<Listener[]> {
  const all: Listener[] = [];
  let marker: string | undefined;
  do {
    const out = await client.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker }));
    all.push(...(out.Listeners ?? []));
    marker = out.NextMarker;
  } while (marker);
  return all;
}

/** moto's health rows: every registered target, or the asked ones (moto answers for unknown ones too). */
export async function motoTargetHealth(
  client: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  targets?: TargetDescription[],
): Promise<TargetHealthDescription[]> {
  const out = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, ...(targets ? { Targets: targets } : {}) }));
  return out.TargetHealthDescriptions ?? [];
}

/** The group's `deregistration_delay.timeout_seconds` (AWS's default 300 when absent). */
export async function deregistrationDelaySeconds(client: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<number> {
  const out = await client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }));
  const value = Number(out.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value);
  return Number.isFinite(value) && value >= 0 ? value : 300;
}

/** The target groups a listener forwards to (a plain forward, or a weighted forward config). */
export function forwardTargetGroupsOf(listener: Listener): string[] {
  const arns: string[] = [];
  for (const action of listener.DefaultActions ?? []) {
    if (action.Type !== 'forward') continue;
    if (action.TargetGroupArn) arns.push(action.TargetGroupArn);
    for (const tg of action.ForwardConfig?.TargetGroups ?? []) if (tg.TargetGroupArn && !arns.includes(tg.TargetGroupArn)) arns.push(tg.TargetGroupArn);
  }
  return arns;
}

/** True for moto's "no such load balancer / target group" errors. */
export function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name ?? '';
  return /^(TargetGroupNotFound|LoadBalancerNotFound|ListenerNotFound)(Exception)?$/.test(name);
}

/** One of moto's target health descriptions as a row of the front's DescribeTargetHealth answer. */
export function targetHealthRowOf(d: TargetHealthDescription, defaultPort: number): TargetHealthRow {
  const row: TargetHealthRow = { id: d.Target?.Id ?? '', port: d.Target?.Port ?? defaultPort, state: d.TargetHealth?.State ?? 'unavailable' };
  if (d.HealthCheckPort) row.healthCheckPort = d.HealthCheckPort;
  if (d.TargetHealth?.Reason) row.reason = d.TargetHealth.Reason;
  if (d.TargetHealth?.Description) row.description = d.TargetHealth.Description;
  return row;
}
