/**
 * waitTargetHealthy: polls DescribeTargetHealth for one target until it is healthy, heartbeating
 * `{state, waitedSeconds}` on every poll. A retried attempt resumes the clock from the last
 * heartbeat, so the deadline counts the whole wait and not one attempt. Past the deadline it fails
 * with a hint chosen by the state the target is stuck in.
 */
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { TargetHealth, TargetState, WaitTargetHealthyInput } from '../types';
import { cancellationSignal, heartbeat, lastHeartbeatDetails, throwIfCancelled } from '../activityContext';
import { targetGroupNameOf } from './checks';
import type { ResolvedAwsDependencies } from './dependencies';
import { healthOfTarget, portOf } from './targets';

/** What every heartbeat of waitTargetHealthy carries. */
export interface WaitTargetHeartbeat {
  state: TargetState;
  waitedSeconds: number;
  reason?: string;
}

/** Default seconds between polls. */
export const DEFAULT_POLL_SECONDS = 5;

/** The seconds an earlier attempt had already waited, from its last heartbeat (0 for a first attempt). */
export function resumedWaitedSeconds(details: unknown): number {
  const waited = (details as Partial<WaitTargetHeartbeat> | undefined)?.waitedSeconds;
  return typeof waited === 'number' && Number.isFinite(waited) && waited > 0 ? waited : 0;
}

/** What an operator should look at when a target stays in this state. */
export function stuckTargetHint(state: TargetState): string {
  switch (state) {
    case 'initial':
      return "The NLB is still running its first health checks, or cannot finish them: check that the host's security group allows TCP 6443 from the VPC CIDR (NLB health checks come from the NLB's private IPs) and that kube-apiserver listens on 6443 (ss -ltn | grep 6443).";
    case 'unhealthy':
      return "The NLB's health checks (HTTPS GET /readyz on 6443, 200 only) fail. Likely causes: kube-apiserver is down, not listening on 6443, or not ready: its etcd has no quorum or is unreachable (curl -k https://<host>:6443/readyz?verbose names the failing check; crictl ps | grep kube-apiserver); the host's security group does not allow TCP 6443 from the NLB (the VPC CIDR); a hairpin, when client IP preservation is on and the host reaches itself through the NLB (IP targets keep it off by default).";
    case 'unused':
      return "The NLB sends no health checks to the target: the target group is not attached to a listener of the load balancer, or the target's IP is in an availability zone where the load balancer has no subnet (add that zone's subnet to aws.subnetIds), or the target is stopped.";
    case 'draining':
      return 'The target is being deregistered: something removed it from the target group. Register it again (registerTarget) if it should serve the API.';
    case 'unavailable':
      return "AWS reports the target's health as unavailable: health checks may be disabled on the target group, or AWS has a problem of its own. Check the target group's health-check settings and the AWS Health Dashboard.";
    default:
      return 'Check the target in the AWS console (EC2 > Target groups > Targets).';
  }
}

function notRegistered(input: WaitTargetHealthyInput): Error {
  const port = portOf(input);
  return kubehaFailure({
    type: ErrorType.Conflict,
    retryable: false,
    message: `target ${input.ip}:${port} is not registered in target group "${targetGroupNameOf(input.targetGroupArn)}"`,
    hint: 'Register the target first (registerTarget); waitTargetHealthy only waits for a registered target.',
    details: { ip: input.ip, port, targetGroupArn: input.targetGroupArn },
  });
}

function deadlineExceeded(input: WaitTargetHealthyInput, health: TargetHealth, waitedSeconds: number): Error {
  const port = portOf(input);
  const why = [health.reason, health.description].filter(Boolean).join(': ');
  return kubehaFailure({
    type: ErrorType.DeadlineExceeded,
    retryable: false,
    message: `target ${input.ip}:${port} is still ${health.state}${why ? ` (${why})` : ''} after ${waitedSeconds} s; the deadline was ${input.deadlineSeconds} s`,
    hint: stuckTargetHint(health.state),
    details: {
      ip: input.ip,
      port,
      state: health.state,
      reason: health.reason,
      description: health.description,
      waitedSeconds,
      deadlineSeconds: input.deadlineSeconds,
    },
  });
}

/** The waitTargetHealthy activity. */
export async function waitTargetHealthy(deps: ResolvedAwsDependencies, input: WaitTargetHealthyInput): Promise<{ state: TargetState; waitedSeconds: number }> {
  const clients = deps.clientsFor(input.aws);
  const pollMs = Math.max(1, input.pollSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
  const earlierMs = resumedWaitedSeconds(lastHeartbeatDetails()) * 1000;
  const deadlineMs = input.deadlineSeconds * 1000;
  const started = deps.clock.now();
  const signal = cancellationSignal();
  for (;;) {
    throwIfCancelled(signal);
    const health = await healthOfTarget(clients, input);
    if (!health) throw notRegistered(input);
    const waitedMs = earlierMs + (deps.clock.now() - started);
    const waitedSeconds = Math.floor(waitedMs / 1000);
    if (health.state === 'healthy') return { state: health.state, waitedSeconds };
    const beat: WaitTargetHeartbeat = { state: health.state, waitedSeconds };
    if (health.reason) beat.reason = health.reason;
    heartbeat(beat);
    if (waitedMs >= deadlineMs) throw deadlineExceeded(input, health, waitedSeconds);
    // The last sleep ends at the deadline, so the final poll happens on time.
    await deps.clock.sleep(Math.min(pollMs, deadlineMs - waitedMs), signal);
  }
}
