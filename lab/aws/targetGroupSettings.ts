/**
 * A target group's settings as the lab's data plane uses them (read from moto's DescribeTargetGroups,
 * with AWS's defaults), and how much faster than AWS the lab's clocks run.
 */
import type { TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';

/** What the data plane needs of a target group, read from DescribeTargetGroups. */
export interface TargetGroupSettings {
  arn: string;
  name: string;
  port: number;
  healthCheck: {
    enabled: boolean;
    intervalSeconds: number;
    timeoutSeconds: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
    /** `traffic-port` (the target's own port) or a port number. */
    port: string;
    /** TCP, HTTP or HTTPS (an NLB target group checks TCP unless told otherwise). */
    protocol: string;
    /** HTTP(S) checks: the path and the status codes that pass. */
    path: string;
    httpCodes: string;
  };
  /** A listener forwards to the group (AWS lists the load balancer in `LoadBalancerArns`). */
  inUse: boolean;
}

/** Reads the settings from a DescribeTargetGroups row, with AWS's defaults for what is missing. */
export function settingsOf(tg: TargetGroup): TargetGroupSettings {
  return {
    arn: tg.TargetGroupArn ?? '',
    name: tg.TargetGroupName ?? '',
    port: tg.Port ?? 0,
    healthCheck: {
      enabled: tg.HealthCheckEnabled ?? true,
      intervalSeconds: tg.HealthCheckIntervalSeconds ?? 30,
      timeoutSeconds: tg.HealthCheckTimeoutSeconds ?? 10,
      healthyThreshold: tg.HealthyThresholdCount ?? 5,
      unhealthyThreshold: tg.UnhealthyThresholdCount ?? 2,
      port: tg.HealthCheckPort ?? 'traffic-port',
      protocol: tg.HealthCheckProtocol ?? 'TCP',
      path: tg.HealthCheckPath ?? '/',
      httpCodes: tg.Matcher?.HttpCode ?? '200-399',
    },
    inUse: (tg.LoadBalancerArns ?? []).length > 0,
  };
}

/** How much faster than AWS the lab's clocks run. */
export interface TimeScales {
  healthCheckInterval: number;
  deregistrationDelay: number;
}
