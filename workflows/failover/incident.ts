/**
 * The incident a failover answers, and what operators said about it: the alerts Alertmanager relays,
 * the approval, a forced failback, and the `status` with every decision. The signal and update handlers
 * of FailoverToEast call this class and nothing else; the steps read it and record their decisions here.
 */
import { log, patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { AlertNotification, ApprovalDecision, ApprovalUpdate, FailoverStatus } from '../../common/inputs/failoverToEast';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import type { ProgressTracker } from '../engine/progress';
import type { CarriedState, FailoverCarry } from './continueAsNew';

/** At most this many decisions stay in the queries (the history holds them all). */
const MAX_DECISIONS = 200;
/** At most this many incidents are listed in the result. */
const MAX_INCIDENTS = 500;
/** At most this many alert states are remembered to tell duplicates from news. */
const MAX_SEEN_ALERT_STATES = 2000;

/** An approval that stands: an operator's, or the input's default once the wait timed out. */
export type Approval = NonNullable<FailoverCarry['approval']>;

export class Incident {
  /** What the `status` query answers. */
  readonly status: FailoverStatus;
  /** Whether the input asks for an approval; unknown until the input is validated. */
  approvalRequired?: boolean;
  private approvalGiven?: Approval;
  /** Bumped on every firing notification, so waits can notice "fired again". */
  private generation = 0;
  /** When the last alert of the group resolved; undefined while any fires. */
  private resolvedSince?: number;
  /** Whether any alert was ever received (a run started by hand has none). */
  private anyAlert = false;
  private forced?: { by: string };
  private seenAlertStates = new Set<string>();
  /** Alerts firing now: fingerprint → startsAt of their current incident. */
  private firingSince = new Map<string, string>();
  /** Incidents that resolved: fingerprint → startsAt. A late "firing" of one of them does not re-arm the run. */
  private resolvedIncidents = new Map<string, string>();
  /** Every incident (`fingerprint|startsAt`) that fired during this run, for the result. */
  private incidents = new Set<string>();

  constructor(
    private readonly tracker: ProgressTracker,
    pair: FailoverStatus['pair'],
  ) {
    this.status = {
      traffic: {},
      pair,
      state: 'checking',
      eastPercent: {},
      firing: [],
      notifications: { total: 0, firing: 0, resolved: 0, duplicates: 0 },
      sparesRegistered: [],
      decisions: [],
    };
  }

  get approval(): Approval | undefined {
    return this.approvalGiven;
  }

  get firingGeneration(): number {
    return this.generation;
  }

  get resolvedAt(): number | undefined {
    return this.resolvedSince;
  }

  get alertsSeen(): boolean {
    return this.anyAlert;
  }

  get failbackForced(): { by: string } | undefined {
    return this.forced;
  }

  /** Every incident that fired during this run, as `fingerprint|startsAt`. */
  get incidentKeys(): string[] {
    return [...this.incidents];
  }

  /** Records a decision: status query, progress facts (UI details), log; the history has the signal or activity behind it. */
  decide(what: string, why: string): void {
    const decisions = this.status.decisions;
    decisions.push({ at: new Date().toISOString(), what, why });
    if (decisions.length > MAX_DECISIONS) decisions.splice(0, decisions.length - MAX_DECISIONS);
    this.tracker.setFact('last decision', `${what}: ${why}`);
    log.info('failover decision', { what, why });
  }

  setState(state: FailoverStatus['state']): void {
    const changed = this.status.state !== state;
    this.status.state = state;
    this.tracker.setFact('state', state);
    // Search attributes are written only when the state changes: each write is an event in the history.
    if (changed || !patched('kubeha-failover-attributes-on-change')) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.failoverState, value: state }]);
  }

  /** What set the failover going, for the reasons it records. */
  trigger(): string {
    const alerts = this.anyAlert ? `${this.status.firing.length} alert(s) firing` : 'started by hand';
    const approval = this.status.approvedBy ? `; approved by ${this.status.approvedBy}` : '';
    return `${alerts}${approval}`;
  }

  /** Signal `alert`: an Alertmanager notification relayed by the webhook. */
  onAlert(n: AlertNotification): void {
    const counts = this.status.notifications;
    counts.total += 1;
    if (n.status === 'firing') counts.firing += 1;
    else counts.resolved += 1;
    const alerts = Array.isArray(n.alerts) ? n.alerts : [];
    const states = alerts.map((a) => `${a.fingerprint}|${a.startsAt}|${a.status}`);
    const news = states.filter((s) => !this.seenAlertStates.has(s));
    if (news.length === 0 && states.length > 0) counts.duplicates += 1;
    for (const s of news) this.seenAlertStates.add(s);
    if (this.seenAlertStates.size > MAX_SEEN_ALERT_STATES) this.seenAlertStates.clear();

    const firing = this.firingSince;
    const wasFiring = firing.size > 0;
    let stale = 0;
    let late = 0;
    // Runs that started before this rule kept re-arming on a late firing; they replay as they ran.
    const ignoreLateFirings = patched('kubeha-late-firing-ignored');
    for (const a of alerts) {
      const since = firing.get(a.fingerprint);
      const resolved = this.resolvedIncidents.get(a.fingerprint);
      if (a.status === 'firing') {
        // Alertmanager retries and HA peers deliver the firing of an incident that has resolved since.
        if (ignoreLateFirings && !since && resolved !== undefined && a.startsAt <= resolved) late += 1;
        else if (!since || a.startsAt > since) firing.set(a.fingerprint, a.startsAt);
        if (this.incidents.size < MAX_INCIDENTS) this.incidents.add(`${a.fingerprint}|${a.startsAt}`);
      } else if (since && a.startsAt < since) {
        // A late (retried or duplicated) resolution of an earlier incident of the same alert.
        stale += 1;
      } else {
        firing.delete(a.fingerprint);
        if (ignoreLateFirings && a.fingerprint) this.resolvedIncidents.set(a.fingerprint, a.startsAt);
      }
    }
    if (this.resolvedIncidents.size > MAX_SEEN_ALERT_STATES) this.resolvedIncidents.clear();
    if (stale > 0) this.decide('StaleResolutionIgnored', `${stale} resolution(s) of an earlier incident ignored: the alert fired again since`);
    if (late > 0)
      this.decide(
        'LateFiringIgnored',
        `${late} firing notification(s) of an incident that already resolved ignored: the same alert must start again to re-arm`,
      );
    this.status.firing = [...firing.keys()].sort();
    this.anyAlert = true;
    const names = [...new Set(alerts.map((a) => a.labels?.alertname).filter(Boolean))].join(', ') || '(no alertname)';
    this.tracker.setFact(
      'alerts',
      `${firing.size} firing; ${counts.total} notifications (${counts.firing} firing, ${counts.resolved} resolved, ${counts.duplicates} duplicates)`,
    );

    if (firing.size > 0) {
      this.generation += 1;
      this.resolvedSince = undefined;
      if (!wasFiring) this.decide('AlertFiring', `${names} firing (route ${n.route}, receiver ${n.receiver})`);
    } else if (wasFiring || this.resolvedSince === undefined) {
      this.resolvedSince = Date.now();
      this.decide('AlertResolved', `${names} resolved (route ${n.route})`);
    }
  }

  /** Signals `approve` / `reject` and the `approval` update: the first decision stands. */
  onApproval(decision: 'approve' | 'reject', d?: ApprovalDecision): { decision: 'approve' | 'reject'; by?: string } {
    if (this.approvalGiven) {
      this.decide('ApprovalIgnored', `${decision} by ${d?.by ?? 'operator'} ignored: already ${this.approvalGiven.decision} by ${this.approvalGiven.by}`);
      return { decision: this.approvalGiven.decision, by: this.approvalGiven.by };
    }
    this.approvalGiven = { decision, by: (d?.by ?? 'operator').slice(0, 100), comment: d?.comment?.slice(0, 500) };
    return { decision, by: this.approvalGiven.by };
  }

  /** The `approval` update's validator: refused before it is written to the history. */
  validateApproval(u: ApprovalUpdate): void {
    if (u?.decision !== 'approve' && u?.decision !== 'reject') throw new Error('decision must be "approve" or "reject"');
    if (this.approvalGiven) throw new Error(`already decided: ${this.approvalGiven.decision} by ${this.approvalGiven.by}`);
    if (this.approvalRequired === false) throw new Error('this failover does not wait for an approval');
  }

  /** The input's default decision, once nobody answered in time. */
  approveByDefault(approval: Approval): void {
    this.approvalGiven = approval;
  }

  /** Signal `failback`: fail back now, without the hysteresis window. */
  onFailback(d?: ApprovalDecision): void {
    this.forced = { by: d?.by ?? 'operator' };
    this.decide('FailbackForced', `failback forced by ${this.forced.by}${d?.comment ? `: ${d.comment}` : ''}`);
  }

  /** What the next run takes over (continue-as-new); sets and maps travel as arrays. */
  carried(westMirrorUnverified: boolean): CarriedState {
    return {
      status: this.status,
      approval: this.approvalGiven,
      westMirrorUnverified,
      firingGeneration: this.generation,
      resolvedAt: this.resolvedSince,
      alertsSeen: this.anyAlert,
      failbackForced: this.forced,
      seenAlertStates: [...this.seenAlertStates],
      firingSince: [...this.firingSince],
      resolvedIncidents: [...this.resolvedIncidents],
      incidents: [...this.incidents],
    };
  }

  /** Takes over what the previous run handed over. */
  restore(carry: FailoverCarry): void {
    Object.assign(this.status, carry.status);
    this.approvalGiven = carry.approval;
    this.generation = carry.firingGeneration;
    this.resolvedSince = carry.resolvedAt;
    this.anyAlert = carry.alertsSeen;
    this.forced = carry.failbackForced;
    this.seenAlertStates = new Set(carry.seenAlertStates);
    this.firingSince = new Map(carry.firingSince);
    this.resolvedIncidents = new Map(carry.resolvedIncidents);
    this.incidents = new Set(carry.incidents);
  }
}
