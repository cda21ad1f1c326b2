/**
 * The lab's AWS: options, status and events. Everything here is plain data, so `kubeha lab status`
 * can print it and the front's control endpoint can serve it as JSON.
 */

/** What DescribeTargetHealth reports for a target the lab's data plane manages. */
export type LabTargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused' | 'unavailable';

/** Options of {@link startLabAws}. Every field has a default that suits `kubeha lab up`. */
export interface LabAwsOptions {
  /** Where the Route 53 data plane (an authoritative DNS server over moto's zones) listens; none when left out. */
  dns?: { address: string; port: number };
  /** Where the front and moto listen. Default `127.0.0.1`. */
  host?: string;
  /** The front's port; default 0 (a free port). */
  frontPort?: number;
  /** moto_server's executable; default `findTool('moto_server', 'MOTO_SERVER_PATH')`. */
  motoServerPath?: string;
  /** Regions the data plane watches from the start (others join when a call names them). Default `['us-east-1']`. */
  regions?: string[];
  /** Loopback addresses handed to load balancers, in order. Default 127.0.99.1 to 127.0.99.254. */
  addressPool?: readonly string[];
  /** The hosts file the data plane keeps load balancer names in. Default `/etc/hosts`. */
  hostsFile?: string;
  /**
   * Appended to the block's marker lines (`# kubeha-lab begin <label>`), so two labs on one machine
   * keep separate blocks. Default none: the markers are exactly `# kubeha-lab begin` / `# kubeha-lab end`.
   */
  hostsBlockLabel?: string;
  /**
   * Multiplies the target groups' health-check interval and timeout, so tests see transitions in
   * milliseconds instead of tens of seconds. Default 1 (AWS's timing).
   */
  healthCheckIntervalScale?: number;
  /** Multiplies the target groups' deregistration delay. Default: `healthCheckIntervalScale`. */
  deregistrationDelayScale?: number;
  /** Milliseconds between two looks at moto. Default 1000. */
  pollIntervalMs?: number;
  /** Events kept in memory (oldest dropped first). Default 10000. */
  maxEvents?: number;
}

/** One target as the data plane sees it. */
export interface LabTargetStatus {
  id: string;
  port: number;
  state: LabTargetState;
  reason?: string;
  description?: string;
  /** When the target entered its state (ms since the epoch). */
  since: number;
}

/** One target group as the data plane sees it. */
export interface LabTargetGroupStatus {
  arn: string;
  name: string;
  /** True when a listener forwards to it (its targets are health-checked); false: targets `unused`. */
  inUse: boolean;
  healthCheck: { enabled: boolean; intervalMs: number; timeoutMs: number; healthyThreshold: number; unhealthyThreshold: number };
  /** Scaled deregistration delay, known once a target has drained. */
  deregistrationDelayMs?: number;
  targets: LabTargetStatus[];
}

/** One load balancer's data plane: its address, listeners and the targets they forward to. */
export interface LabLoadBalancerStatus {
  arn: string;
  name: string;
  dnsName: string;
  /** The loopback address its listeners are bound to (and its DNS name resolves to). */
  address: string;
  listeners: { port: number; targetGroupArns: string[]; openConnections: number; listening: boolean }[];
  /** The targets of every target group its listeners forward to. */
  targets: (LabTargetStatus & { targetGroupArn: string })[];
}

/** A fault still waiting to hit calls. */
export interface LabFaultStatus {
  kind: LabFaultKind;
  remaining: number;
  /** Only calls of this API action; every action when absent. */
  action?: string;
}

/** What a fault makes the front answer: `throttle` 400 Throttling (EC2: 503 RequestLimitExceeded), `server-error` 500. */
export type LabFaultKind = 'throttle' | 'server-error';

/** Everything the lab's AWS knows, for `kubeha lab status`. */
export interface LabAwsStatus {
  /** The front: what `aws.endpoint` must be. */
  endpoint: string;
  /** The Route 53 data plane, with the answers it gave by name. */
  dns?: { address: string; port: number; answered: Record<string, number> };
  motoEndpoint: string;
  motoPid?: number;
  regions: string[];
  healthCheckIntervalScale: number;
  deregistrationDelayScale: number;
  hostsFile: string;
  hostsBlockLabel?: string;
  loadBalancers: LabLoadBalancerStatus[];
  targetGroups: LabTargetGroupStatus[];
  faults: LabFaultStatus[];
  /** The last look at moto: when, and what went wrong if it failed. */
  lastSync?: { at: number; error?: string };
}

/** Something that happened in the lab's AWS, with its time (ms since the epoch). */
export type LabAwsEvent =
  | {
      at: number;
      kind: 'target';
      targetGroupArn: string;
      targetGroupName: string;
      id: string;
      port: number;
      /** `none` for a target the data plane has just learned of. */
      from: LabTargetState | 'none';
      /** `gone` once a drained (or deleted) target is forgotten. */
      to: LabTargetState | 'gone';
      reason?: string;
    }
  | { at: number; kind: 'load-balancer'; loadBalancerArn: string; name: string; dnsName: string; address: string; change: 'up' | 'down' }
  | { at: number; kind: 'listener'; loadBalancerArn: string; address: string; port: number; change: 'up' | 'down' }
  | { at: number; kind: 'fault'; fault: LabFaultKind; action: string }
  | { at: number; kind: 'hosts-file'; file: string; entries: number }
  | { at: number; kind: 'error'; message: string };

/** An event before it is stamped with its time. */
export type LabAwsEventInput = LabAwsEvent extends infer E ? (E extends { at: number } ? Omit<E, 'at'> : never) : never;
