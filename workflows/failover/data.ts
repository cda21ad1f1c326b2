/**
 * What the steps of one FailoverToEast run share. Built once, after the input is validated, and the
 * same on every replay; the steps add only their findings (stop, westMirrorUnverified).
 */
import type { FailoverStatus, FailoverToEastConfig, ResolvedService } from '../../common/inputs/failoverToEast';
import type { ProgressTracker } from '../engine/progress';
import type { Incident } from './incident';

export interface FailoverContext {
  readonly config: FailoverToEastConfig;
  readonly tracker: ProgressTracker;
  readonly services: ResolvedService[];
  /** The alerts, the approval and the status: what the signals and the update change. */
  readonly incident: Incident;
  /** The input as given, for the run that continues this one. */
  readonly input: unknown;
  /** How many runs of this failover came before this one (continue-as-new). */
  readonly runsBefore: number;
  /** Whether this run may continue as new (runs started before that rule keep one run). */
  readonly mayContinue: boolean;
  /** Outcome that ends the run early (refused, rejected); later steps are skipped with this reason. */
  stop?: { outcome: 'refused' | 'rejected'; reasons: string[] };
  /** True when the precheck could not reach west's API (the control plane may bring it back). */
  westMirrorUnverified: boolean;
  /**
   * Whether this run moves traffic the way that needs nothing of west (Route 53 and east's own splits
   * first, west's split only while its API answers, the precheck on east alone). Runs that started
   * before keep the older way (patched), so their histories replay.
   */
  readonly westOptional: boolean;
  /** Why west's API was found not answering during a shift (its split is then left out until failback). */
  westDown?: string;
}

/** What FailoverToEast returns. */
export interface FailoverResult {
  /** refused: east could not take the load; rejected: not approved; failed-back: the full cycle ran. */
  outcome: 'refused' | 'rejected' | 'failed-back';
  pair: { west: string; east: string };
  reasons: string[];
  eastPercent: Record<string, number>;
  sparesRegistered: string[];
  notifications: FailoverStatus['notifications'];
  approvedBy?: string;
  /**
   * The incidents this run handled, as `fingerprint|startsAt` of each firing alert: a delivery of one of
   * them after the run closed (Alertmanager's retries) must not start another failover.
   */
  incidents: string[];
}

export function resultOf(ctx: FailoverContext): FailoverResult {
  const { status } = ctx.incident;
  return {
    outcome: ctx.stop?.outcome ?? 'failed-back',
    pair: status.pair,
    reasons: ctx.stop?.reasons ?? [],
    eastPercent: { ...status.eastPercent },
    sparesRegistered: [...status.sparesRegistered],
    notifications: { ...status.notifications },
    approvedBy: status.approvedBy,
    incidents: ctx.incident.incidentKeys,
  };
}
