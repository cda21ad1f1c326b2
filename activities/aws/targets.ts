/**
 * The API target group's IP targets: look at one target's health, register and deregister it
 * only when needed, and list every target's health.
 */
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { AwsSettings } from '../../common/inputs/shared';
import type { TargetHealth, TargetRef, TargetState } from '../types';
import { awsCall, isAwsError } from './awsErrors';
import { API_PORT, targetGroupNameOf } from './checks';
import type { AwsClients } from './clients';

/** The reason DescribeTargetHealth gives for a target the group does not hold. */
export const NOT_REGISTERED_REASON = 'Target.NotRegistered';

const KNOWN_STATES: ReadonlySet<string> = new Set<TargetState>(['initial', 'healthy', 'unhealthy', 'unused', 'draining', 'unavailable']);

/** Maps AWS's state names onto kubeha's (`unhealthy.draining` drains; anything new is `unavailable`). */
export function targetStateOf(awsState: string | undefined): TargetState {
  if (awsState === 'unhealthy.draining') return 'draining';
  return awsState !== undefined && KNOWN_STATES.has(awsState) ? (awsState as TargetState) : 'unavailable';
}

function toTargetHealth(d: TargetHealthDescription): TargetHealth {
  const row: TargetHealth = { ip: d.Target?.Id ?? '', port: d.Target?.Port ?? API_PORT, state: targetStateOf(d.TargetHealth?.State) };
  if (d.TargetHealth?.Reason) row.reason = d.TargetHealth.Reason;
  if (d.TargetHealth?.Description) row.description = d.TargetHealth.Description;
  return row;
}

async function describeHealth(clients: AwsClients, targetGroupArn: string, target?: { Id: string; Port: number }): Promise<TargetHealth[]> {
  try {
    const out = await awsCall('DescribeTargetHealth', (o) =>
      clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, ...(target ? { Targets: [target] } : {}) }), o),
    );
    return (out.TargetHealthDescriptions ?? []).map(toTargetHealth);
  } catch (err) {
    if (isAwsError(err, 'TargetGroupNotFound')) {
      throw kubehaFailure({
        type: ErrorType.Conflict,
        retryable: false,
        message: `target group "${targetGroupNameOf(targetGroupArn)}" does not exist (${targetGroupArn})`,
        hint: 'Run the ensure-load-balancer step again: it creates the target group and returns its ARN.',
        cause: err as Error,
        details: { object: 'target group', field: 'TargetGroupArn', expected: targetGroupArn, actual: '(not found)' },
      });
    }
    throw err;
  }
}

/** The port of a target reference (6443 unless given). */
export function portOf(ref: TargetRef): number {
  return ref.port ?? API_PORT;
}

/**
 * The health of one target, or undefined when the group does not hold it at all. AWS answers a
 * question about an unknown target with a row whose reason is Target.NotRegistered (state
 * `unused`; moto says `unavailable`), so the reason decides, not the state.
 */
export async function healthOfTarget(clients: AwsClients, ref: TargetRef): Promise<TargetHealth | undefined> {
  const port = portOf(ref);
  const rows = await describeHealth(clients, ref.targetGroupArn, { Id: ref.ip, Port: port });
  const row = rows.find((r) => r.ip === ref.ip && r.port === port);
  return row && row.reason !== NOT_REGISTERED_REASON ? row : undefined;
}

/** The registerTarget activity: registers the target unless the group already holds it (draining counts as gone). */
export async function registerTarget(clients: AwsClients, ref: TargetRef): Promise<{ registered: boolean }> {
  const before = await healthOfTarget(clients, ref);
  if (before && before.state !== 'draining') return { registered: false };
  const port = portOf(ref);
  await awsCall('RegisterTargets', (o) =>
    clients.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: ref.targetGroupArn, Targets: [{ Id: ref.ip, Port: port }] }), o),
  );
  const after = await healthOfTarget(clients, ref);
  if (!after) {
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      retryable: true,
      message: `target ${ref.ip}:${port} is not in target group "${targetGroupNameOf(ref.targetGroupArn)}" after RegisterTargets`,
      hint: 'AWS may still be processing the registration; the next attempt looks again.',
    });
  }
  return { registered: true };
}

/** The deregisterTarget activity: deregisters the target if the group holds it and it is not already draining. */
export async function deregisterTarget(clients: AwsClients, ref: TargetRef): Promise<{ deregistered: boolean }> {
  const before = await healthOfTarget(clients, ref);
  if (!before || before.state === 'draining') return { deregistered: false };
  const port = portOf(ref);
  await awsCall('DeregisterTargets', (o) =>
    clients.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: ref.targetGroupArn, Targets: [{ Id: ref.ip, Port: port }] }), o),
  );
  const after = await healthOfTarget(clients, ref);
  if (after && after.state !== 'draining') {
    throw kubehaFailure({
      type: ErrorType.VerificationFailed,
      retryable: true,
      message: `target ${ref.ip}:${port} is still ${after.state} in target group "${targetGroupNameOf(ref.targetGroupArn)}" after DeregisterTargets`,
      hint: 'AWS may still be processing the deregistration; the next attempt looks again.',
    });
  }
  return { deregistered: true };
}

/** The describeTargetHealth activity: every target of the group with its state. */
export async function describeTargetHealth(clients: AwsClients, input: { aws: AwsSettings; targetGroupArn: string }): Promise<TargetHealth[]> {
  return describeHealth(clients, input.targetGroupArn);
}
