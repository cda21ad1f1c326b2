/**
 * One target group's targets as the lab's NLB sees them: registered targets are health-checked
 * over TCP while a listener uses the group, deregistered ones drain for the group's deregistration
 * delay, and the TCP proxy asks it which target takes the next connection.
 */
import type { EventLog } from './events';
import { afterCheck, probeHttp, probeTcp, type HealthTally } from './healthCheck';
import type { TargetHealthRow } from './queryApi';
import type { TargetGroupSettings, TimeScales } from './targetGroupSettings';
import type { LabTargetGroupStatus, LabTargetState, LabTargetStatus } from './types';

// The reasons and descriptions AWS gives with each state.
const EXPLANATIONS: Record<LabTargetState, { reason?: string; description?: string }> = {
  initial: { reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' },
  healthy: {},
  unhealthy: { reason: 'Target.FailedHealthChecks', description: 'Health checks failed' },
  draining: { reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' },
  unused: { reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' },
  unavailable: { reason: 'Target.HealthCheckDisabled', description: 'Health checks are disabled' },
};

// Floors for scaled timing: a check loop faster than this only burns CPU, and a connect on a busy
// machine can take tens of milliseconds.
const MIN_INTERVAL_MS = 20;
const MIN_TIMEOUT_MS = 100;

interface TargetRecord {
  id: string;
  port: number;
  state: LabTargetState;
  since: number;
  tally: HealthTally;
  /** Bumped to stop the running check loop (a probe in flight then discards its result). */
  generation: number;
  checkTimer?: NodeJS.Timeout;
  drainTimer?: NodeJS.Timeout;
}

/** A registered target, as moto lists it. */
export interface RegisteredTarget {
  id: string;
  port: number;
}

const keyOf = (id: string, port: number) => `${id}:${port}`;

/** The data plane's view of one target group. */
export class TargetGroupRuntime {
  private readonly targets = new Map<string, TargetRecord>();
  private roundRobin = 0;
  private stopped = false;
  private deregistrationDelayMs?: number;

  constructor(
    private settings: TargetGroupSettings,
    private readonly scales: TimeScales,
    private readonly events: EventLog,
  ) {}

  get arn(): string {
    return this.settings.arn;
  }

  /** Takes new settings; targets start over when the group starts or stops being used, or checks are switched. */
  update(settings: TargetGroupSettings): void {
    const before = this.settings;
    this.settings = settings;
    if (before.inUse === settings.inUse && before.healthCheck.enabled === settings.healthCheck.enabled) return;
    for (const record of this.targets.values()) {
      if (record.state !== 'draining') this.startOver(record);
    }
  }

  /**
   * Brings the targets in line with moto's registered list: new ones start (initial, or unused),
   * missing ones drain for the deregistration delay, re-registered draining ones start over.
   */
  async reconcile(registered: readonly RegisteredTarget[], deregistrationDelaySeconds: () => Promise<number>): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map(registered.map((t) => [keyOf(t.id, t.port), t]));
    for (const [key, target] of wanted) {
      const record = this.targets.get(key);
      if (!record) this.add(target);
      else if (record.state === 'draining') this.startOver(record);
    }
    const leaving = [...this.targets.entries()].filter(([key, r]) => !wanted.has(key) && r.state !== 'draining').map(([, r]) => r);
    if (leaving.length === 0) return;
    const delayMs = Math.round((await deregistrationDelaySeconds()) * 1000 * this.scales.deregistrationDelay);
    this.deregistrationDelayMs = delayMs;
    for (const record of leaving) {
      // Registered again while the delay was being read: nothing to drain.
      if (this.stopped || this.targets.get(keyOf(record.id, record.port)) !== record || record.state === 'draining') continue;
      this.stopChecks(record);
      this.setState(record, 'draining');
      record.drainTimer = setTimeout(() => this.forget(record), delayMs);
    }
  }

  /** The target that takes the next connection, or undefined when the group has none to give. */
  pick(): { host: string; port: number } | undefined {
    const live = [...this.targets.values()].filter((t) => t.state !== 'draining' && t.state !== 'unused');
    let candidates = live.filter((t) => t.state === 'healthy');
    // Fail open: with no healthy target and at least one failing its checks, AWS routes to every
    // target. Targets that are only `initial` get nothing yet (the delay kubeadm must tolerate).
    if (candidates.length === 0 && live.some((t) => t.state === 'unhealthy')) candidates = live;
    // Health checks switched off: every target counts.
    if (candidates.length === 0) candidates = live.filter((t) => t.state === 'unavailable');
    if (candidates.length === 0) return undefined;
    const chosen = candidates[this.roundRobin++ % candidates.length] as TargetRecord;
    return { host: chosen.id, port: chosen.port };
  }

  /** The DescribeTargetHealth row of a target the group holds (draining included), if any. */
  healthRow(id: string, port: number): TargetHealthRow | undefined {
    const record = this.targets.get(keyOf(id, port));
    if (!record) return undefined;
    return { id, port, healthCheckPort: String(this.healthCheckPortOf(record)), state: record.state, ...EXPLANATIONS[record.state] };
  }

  /** Every target the group holds, draining ones last (AWS lists them with the rest). */
  targetsInOrder(): RegisteredTarget[] {
    const all = [...this.targets.values()];
    return [...all.filter((t) => t.state !== 'draining'), ...all.filter((t) => t.state === 'draining')].map((t) => ({ id: t.id, port: t.port }));
  }

  /** The group for `lab status`. */
  status(): LabTargetGroupStatus {
    const hc = this.settings.healthCheck;
    const targets: LabTargetStatus[] = [...this.targets.values()].map((r) => ({
      id: r.id,
      port: r.port,
      state: r.state,
      ...EXPLANATIONS[r.state],
      since: r.since,
    }));
    return {
      arn: this.settings.arn,
      name: this.settings.name,
      inUse: this.settings.inUse,
      healthCheck: {
        enabled: hc.enabled,
        intervalMs: this.intervalMs(),
        timeoutMs: this.timeoutMs(),
        healthyThreshold: hc.healthyThreshold,
        unhealthyThreshold: hc.unhealthyThreshold,
      },
      ...(this.deregistrationDelayMs !== undefined ? { deregistrationDelayMs: this.deregistrationDelayMs } : {}),
      targets,
    };
  }

  /** The state of one target and when it entered it, if the group holds it. */
  stateOf(id: string, port: number): { state: LabTargetState; since: number } | undefined {
    const record = this.targets.get(keyOf(id, port));
    return record ? { state: record.state, since: record.since } : undefined;
  }

  /** Stops every check and timer and forgets the targets (the group is gone, or the lab stops). */
  stop(): void {
    this.stopped = true;
    for (const record of [...this.targets.values()]) this.forget(record);
  }

  private intervalMs(): number {
    return Math.max(MIN_INTERVAL_MS, Math.round(this.settings.healthCheck.intervalSeconds * 1000 * this.scales.healthCheckInterval));
  }

  private timeoutMs(): number {
    return Math.max(MIN_TIMEOUT_MS, Math.round(this.settings.healthCheck.timeoutSeconds * 1000 * this.scales.healthCheckInterval));
  }

  private healthCheckPortOf(record: TargetRecord): number {
    const port = this.settings.healthCheck.port;
    return port === 'traffic-port' ? record.port : Number(port);
  }

  /** The state a (re)registered target starts in, given how the group is used. */
  private startState(): LabTargetState {
    if (!this.settings.inUse) return 'unused';
    return this.settings.healthCheck.enabled ? 'initial' : 'unavailable';
  }

  private add(target: RegisteredTarget): void {
    const record: TargetRecord = {
      id: target.id,
      port: target.port,
      state: this.startState(),
      since: Date.now(),
      tally: { state: 'initial', passes: 0, failures: 0 },
      generation: 0,
    };
    this.targets.set(keyOf(target.id, target.port), record);
    this.events.push({
      kind: 'target',
      targetGroupArn: this.settings.arn,
      targetGroupName: this.settings.name,
      id: record.id,
      port: record.port,
      from: 'none',
      to: record.state,
      ...reasonOf(record.state),
    });
    if (record.state === 'initial') this.startChecks(record);
  }

  private startOver(record: TargetRecord): void {
    this.stopChecks(record);
    clearTimeout(record.drainTimer);
    record.drainTimer = undefined;
    record.tally = { state: 'initial', passes: 0, failures: 0 };
    this.setState(record, this.startState());
    if (record.state === 'initial') this.startChecks(record);
  }

  private setState(record: TargetRecord, state: LabTargetState): void {
    if (record.state === state) return;
    const from = record.state;
    record.state = state;
    record.since = Date.now();
    this.events.push({
      kind: 'target',
      targetGroupArn: this.settings.arn,
      targetGroupName: this.settings.name,
      id: record.id,
      port: record.port,
      from,
      to: state,
      ...reasonOf(state),
    });
  }

  private forget(record: TargetRecord): void {
    this.stopChecks(record);
    clearTimeout(record.drainTimer);
    const key = keyOf(record.id, record.port);
    if (this.targets.get(key) !== record) return;
    this.targets.delete(key);
    this.events.push({
      kind: 'target',
      targetGroupArn: this.settings.arn,
      targetGroupName: this.settings.name,
      id: record.id,
      port: record.port,
      from: record.state,
      to: 'gone',
    });
  }

  /** The first check runs at once (AWS starts checking on registration), then one per interval. */
  private startChecks(record: TargetRecord): void {
    const generation = ++record.generation;
    record.checkTimer = setTimeout(() => void this.check(record, generation), 0);
  }

  private stopChecks(record: TargetRecord): void {
    record.generation++;
    clearTimeout(record.checkTimer);
    record.checkTimer = undefined;
  }

  private async check(record: TargetRecord, generation: number): Promise<void> {
    if (this.stopped || record.generation !== generation) return;
    const started = Date.now();
    const hc = this.settings.healthCheck;
    const port = this.healthCheckPortOf(record);
    const passed =
      hc.protocol === 'HTTP' || hc.protocol === 'HTTPS'
        ? await probeHttp(hc.protocol, record.id, port, hc.path, hc.httpCodes, this.timeoutMs())
        : await probeTcp(record.id, port, this.timeoutMs());
    if (this.stopped || record.generation !== generation) return;
    record.tally = afterCheck(record.tally, passed, this.settings.healthCheck);
    this.setState(record, record.tally.state);
    // The interval runs from the start of one check to the start of the next.
    record.checkTimer = setTimeout(() => void this.check(record, generation), Math.max(0, this.intervalMs() - (Date.now() - started)));
  }
}

function reasonOf(state: LabTargetState): { reason?: string } {
  const reason = EXPLANATIONS[state].reason;
  return reason ? { reason } : {};
}
