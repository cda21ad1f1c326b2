/**
 * From a notification to Temporal: each alert goes to the first route whose matchers it satisfies;
 * each failover route becomes ONE call for its pair's workflow id. A group with a firing alert is a
 * signal-with-start (a running failover gets a signal, none running starts one: never two); a group
 * with only resolved alerts only signals (a resolution must not start a failover).
 *
 * Identical deliveries (Alertmanager HA peers, retries, storms) within the dedupe window share the
 * answer of the one call Temporal accepted; concurrent identical deliveries share one call in flight.
 */
import { createHash } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { ALERT_SIGNAL, type AlertNotification, type RelayedAlert } from '../../common/inputs/failoverToEast';
import type { Route } from './config';
import { matchesAll } from '../../common/alertMatchers';
import type { Notification } from './payload';

/** What was done for one failover route. */
export interface DispatchResult {
  route: string;
  workflowId: string;
  /**
   * signal_with_start: started or signalled; signal: signalled a running failover; not_running: a
   * resolution with no failover to tell; already_handled: a firing of incidents the pair's last run,
   * now closed, already handled (a late delivery: no new failover).
   */
  kind: 'signal_with_start' | 'signal' | 'not_running' | 'already_handled';
  /** For already_handled: the closed run that handled the incidents. */
  handledBy?: string;
  /** True when answered from the dedupe memory or a shared in-flight call. */
  deduplicated: boolean;
  alerts: number;
}

/** A notification split by route. */
export interface RoutingPlan {
  failovers: Array<{ route: Extract<Route, { action: 'failover' }>; alerts: Notification['alerts'] }>;
  ignored: Array<{ route: string; reason: string; alerts: number }>;
  unmatched: number;
}

/** Labels relayed to the workflow: enough to explain decisions, bounded so history stays small. */
const RELAYED_LABELS = 20;

/** Sorts the alerts of a notification onto routes (first match wins, as in Alertmanager without `continue`). */
export function planRoutes(notification: Notification, routes: readonly Route[]): RoutingPlan {
  const byRoute = new Map<string, Notification['alerts']>();
  let unmatched = 0;
  for (const alert of notification.alerts) {
    const route = routes.find((r) => matchesAll(r.matchers, alert.labels));
    if (!route) {
      unmatched++;
      continue;
    }
    const list = byRoute.get(route.name) ?? [];
    list.push(alert);
    byRoute.set(route.name, list);
  }
  const plan: RoutingPlan = { failovers: [], ignored: [], unmatched };
  for (const route of routes) {
    const alerts = byRoute.get(route.name);
    if (!alerts) continue;
    if (route.action === 'failover') plan.failovers.push({ route, alerts });
    else plan.ignored.push({ route: route.name, reason: route.reason ?? `route ${route.name} ignores these alerts`, alerts: alerts.length });
  }
  return plan;
}

function relay(alert: Notification['alerts'][number]): RelayedAlert {
  const labels = Object.fromEntries(
    Object.entries(alert.labels)
      .slice(0, RELAYED_LABELS)
      .map(([k, v]) => [k, v.slice(0, 256)]),
  );
  return { fingerprint: alert.fingerprint, status: alert.status, startsAt: alert.startsAt, endsAt: alert.endsAt, labels };
}

/** Temporal errors that mean "not now" (unreachable, overloaded, timed out): 503, Alertmanager retries. */
export class TemporalUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Temporal did not accept the call: ${rootMessage(cause)}`, { cause });
    this.name = 'TemporalUnavailableError';
  }
}

function rootMessage(err: unknown): string {
  let current = err as Error | undefined;
  let message = String(current?.message ?? err);
  for (let i = 0; current && i < 6; i++) {
    if (current.message) message = current.message;
    current = current.cause as Error | undefined;
  }
  return message.slice(0, 300);
}

/** Knobs of the dispatcher. */
export interface DispatcherOptions {
  client: Client;
  taskQueue: string;
  /** Deadline of each Temporal call. */
  timeoutMs: number;
  dedupeSeconds: number;
  /** Bound of the dedupe memory. Default 10000 entries. */
  maxRemembered?: number;
}

/** The incidents (`fingerprint|startsAt`) a firing delivery reports. */
function firingIncidents(message: AlertNotification): string[] {
  return message.alerts.filter((a) => a.status === 'firing').map((a) => `${a.fingerprint}|${a.startsAt}`);
}

/** Sends routed notifications to Temporal, once per identical delivery within the dedupe window. */
export class Dispatcher {
  private readonly remembered = new Map<string, { until: number; result: DispatchResult }>();
  private readonly inFlight = new Map<string, Promise<DispatchResult>>();

  constructor(private readonly options: DispatcherOptions) {}

  /** Dispatches one route's share of a notification. Throws TemporalUnavailableError for 503. */
  async dispatch(
    notification: Notification,
    route: Extract<Route, { action: 'failover' }>,
    alerts: Notification['alerts'],
    receivedAt: Date,
  ): Promise<DispatchResult> {
    const anyFiring = alerts.some((a) => a.status === 'firing');
    const status: AlertNotification['status'] = anyFiring ? 'firing' : 'resolved';
    const key = createHash('sha256')
      .update(JSON.stringify([route.workflowId, route.name, status, alerts.map((a) => [a.fingerprint, a.startsAt, a.status]).sort()]))
      .digest('hex');
    const now = Date.now();
    const known = this.remembered.get(key);
    if (known && known.until > now) return { ...known.result, deduplicated: true };
    const pending = this.inFlight.get(key);
    if (pending) return { ...(await pending), deduplicated: true };

    const message: AlertNotification = {
      status,
      groupKey: notification.groupKey.slice(0, 1024),
      receiver: notification.receiver.slice(0, 256),
      route: route.name,
      alerts: alerts.map(relay),
      receivedAt: receivedAt.toISOString(),
    };
    const call = this.call(route, message);
    this.inFlight.set(key, call);
    try {
      const result = await call;
      if (this.options.dedupeSeconds > 0) this.remember(key, result, now + this.options.dedupeSeconds * 1000);
      return result;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private remember(key: string, result: DispatchResult, until: number): void {
    const max = this.options.maxRemembered ?? 10_000;
    if (this.remembered.size >= max) {
      // Map keeps insertion order: drop the oldest tenth.
      let drop = Math.ceil(max / 10);
      for (const k of this.remembered.keys()) {
        if (drop-- <= 0) break;
        this.remembered.delete(k);
      }
    }
    this.remembered.set(key, { until, result });
  }

  /**
   * The run id of the pair's last run when it is closed and handled every firing incident of this
   * delivery, else undefined (no run yet, one running, a failed one, or a new incident).
   */
  private async closedRunThatHandled(workflowId: string, message: AlertNotification, deadline: number): Promise<string | undefined> {
    const { client } = this.options;
    const wanted = firingIncidents(message);
    if (wanted.length === 0) return undefined;
    const handle = client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await client.connection.withDeadline(deadline, () => handle.describe());
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    if (description.status.name !== 'COMPLETED') return undefined;
    const result = (await client.connection.withDeadline(deadline, () => client.workflow.getHandle(workflowId, description.runId).result())) as {
      incidents?: unknown;
    };
    const handled = new Set(Array.isArray(result?.incidents) ? result.incidents.filter((i): i is string => typeof i === 'string') : []);
    return wanted.every((i) => handled.has(i)) ? description.runId : undefined;
  }

  private async call(route: Extract<Route, { action: 'failover' }>, message: AlertNotification): Promise<DispatchResult> {
    const { client, timeoutMs, taskQueue } = this.options;
    const base = { route: route.name, workflowId: route.workflowId, deduplicated: false, alerts: message.alerts.length };
    const deadline = Date.now() + timeoutMs;
    try {
      if (message.status === 'firing') {
        const handledBy = await this.closedRunThatHandled(route.workflowId, message, deadline);
        if (handledBy) return { ...base, kind: 'already_handled', handledBy };
        await client.connection.withDeadline(deadline, () =>
          client.workflow.signalWithStart('FailoverToEast', {
            workflowId: route.workflowId,
            taskQueue,
            args: [route.failover],
            signal: ALERT_SIGNAL,
            signalArgs: [message],
            staticSummary: `Failover ${route.failover.west.name} → ${route.failover.east.name} (route ${route.name})`,
            staticDetails: `Started by kubeha's Alertmanager webhook for receiver ${message.receiver}, group ${message.groupKey}.`,
          }),
        );
        return { ...base, kind: 'signal_with_start' };
      }
      try {
        await client.connection.withDeadline(deadline, () => client.workflow.getHandle(route.workflowId).signal(ALERT_SIGNAL, message));
        return { ...base, kind: 'signal' };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { ...base, kind: 'not_running' };
        throw err;
      }
    } catch (err) {
      throw new TemporalUnavailableError(err);
    }
  }
}
