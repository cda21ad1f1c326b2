/**
 * How one service's traffic moves, path by path, for runs where west is optional: Route 53's weighted
 * records (clients outside the mesh, and no need of west), east's own split, and west's split while
 * west's API answers, all three at once. When it does not, west's split is left out with the reason recorded (its
 * in-mesh clients went down with it) and the other paths carry the shift; the failback sets it to match
 * before traffic moves back (westSplitCatchUp).
 */
import { TimeoutFailure } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';
import type { SplitRef } from '../../activities/failover/types';
import { ErrorType, failureType, kubehaFailure } from '../../common/errors';
import type { ResolvedService, ServiceTraffic } from '../../common/inputs/failoverToEast';
import { rootMessage } from '../engine/steps';
import { dns, failover, westCheck } from './activities';
import type { FailoverContext } from './data';

/** One traffic step of one service: where it goes, and what to write on the split objects' Events. */
export interface TrafficMove {
  step: 'shift-traffic' | 'failback';
  target: number;
  reason: 'FailoverShift' | 'FailbackShift';
  /** The Event's name stem (unique per run and step). */
  eventName: string;
  message: string;
}

/** The split of the service on west, as the activities take it. */
export function westSplitRef(ctx: FailoverContext, s: ResolvedService): SplitRef {
  return {
    kubeconfigSecret: ctx.config.west.kubeconfigSecret,
    kind: s.split.kind,
    apiVersion: s.split.apiVersion,
    namespace: s.namespace,
    name: s.split.name,
    westBackend: s.westBackend,
    eastBackend: s.eastBackend,
  };
}

/** Whether a failure means "the API did not answer" (as opposed to "it answered no"). */
export function notAnswering(err: unknown): boolean {
  const type = failureType(err);
  if (type === ErrorType.Unreachable || type === ErrorType.CloudTransient || type === ErrorType.DeadlineExceeded) return true;
  return (err as { cause?: unknown })?.cause instanceof TimeoutFailure;
}

/** The service's traffic record in the status (created on first use). */
export function trafficOf(ctx: FailoverContext, key: string): ServiceTraffic {
  const traffic = ctx.incident.status.traffic;
  return (traffic[key] ??= {});
}

/** The traffic of every service, one line each, DNS first: the progress headline. */
export function publishTraffic(ctx: FailoverContext): void {
  const lines = Object.entries(ctx.incident.status.traffic).map(([key, t]) => {
    const parts: string[] = [];
    if (t.dns) parts.push(`DNS ${t.dns.record} west ${t.dns.west} / east ${t.dns.east}`);
    if (t.westSplit?.skipped) parts.push("west's split left out (west's API does not answer)");
    else if (t.westSplit?.eastPercent !== undefined) parts.push(`west's split east ${t.westSplit.eastPercent}%`);
    if (t.eastSplit) parts.push(`east's split east ${t.eastSplit.eastPercent}%`);
    return `${key}: ${parts.join(' · ')}`;
  });
  ctx.tracker.setHeadline(lines);
}

/**
 * Moves one service to `move.target` % east on each path it has, all at once (the paths are independent,
 * and a step is as quick as its slowest path); returns east's share as verified.
 */
export async function movePaths(ctx: FailoverContext, s: ResolvedService, key: string, move: TrafficMove): Promise<{ eastPercent: number; said: string[] }> {
  const traffic = trafficOf(ctx, key);
  const [dnsSaid, eastSaid, west] = await Promise.all([moveDns(ctx, s, traffic, move), moveEastSplit(ctx, s, traffic, move), moveWestSplit(ctx, s, move)]);
  const said = [dnsSaid, eastSaid].filter((x): x is string => x !== undefined);
  if ('skipped' in west) {
    traffic.westSplit = { ...traffic.westSplit, skipped: west.skipped };
    said.push(`west's split left out: ${west.skipped}`);
    publishTraffic(ctx);
    if (!s.gtm && !s.eastSplit) {
      throw kubehaFailure({
        type: ErrorType.Unreachable,
        message: `${key} has neither a Route 53 record nor an east split, and west's API does not answer: its traffic cannot move (${west.skipped})`,
        retryable: true,
        hint: "give the service a gtm record (or an eastSplit) so its traffic can move without west, or bring west's API back; the step retries",
      });
    }
    return { eastPercent: move.target, said };
  }
  traffic.westSplit = { eastPercent: west.eastPercent };
  said.push(`west's split east ${west.eastPercent}% (was ${west.before}%)`);
  publishTraffic(ctx);
  return { eastPercent: west.eastPercent, said };
}

/** Route 53's weighted pair, when the service has one: one change batch, waited INSYNC. */
async function moveDns(ctx: FailoverContext, s: ResolvedService, traffic: ServiceTraffic, move: TrafficMove): Promise<string | undefined> {
  if (!s.gtm) return undefined;
  const record = s.gtm;
  const weights = { west: 100 - move.target, east: move.target };
  const change = await dns.setGtmWeights.executeWithOptions({ summary: `${record.recordName}: west ${weights.west} / east ${weights.east}` }, [
    { route53: ctx.config.route53, record, weights },
  ]);
  traffic.dns = { record: `${record.recordName} ${record.type}`, ...weights, changeId: change.changeId, syncedAt: new Date().toISOString() };
  return `DNS west ${weights.west} / east ${weights.east} ${change.changed ? `INSYNC after ${change.waitedMs ?? 0} ms` : '(already so)'}`;
}

/** East's own split, when the input names one (east's clients of the service). */
async function moveEastSplit(ctx: FailoverContext, s: ResolvedService, traffic: ServiceTraffic, move: TrafficMove): Promise<string | undefined> {
  if (!s.eastSplit) return undefined;
  const split = s.eastSplit;
  const result = await failover.setSplitWeights.executeWithOptions({ summary: `east ${s.namespace}/${split.name}: east ${move.target}%` }, [
    {
      kubeconfigSecret: ctx.config.east.kubeconfigSecret,
      ...split,
      namespace: s.namespace,
      eastPercent: move.target,
      event: { name: `${move.eventName}-east`, reason: move.reason, message: move.message },
    },
  ]);
  traffic.eastSplit = { eastPercent: result.after.eastPercent };
  return `east's split east ${result.after.eastPercent}%`;
}

/** Sets west's split, unless west was already found not answering: then says why it is left out. */
async function moveWestSplit(
  ctx: FailoverContext,
  s: ResolvedService,
  move: TrafficMove,
): Promise<{ skipped: string } | { eastPercent: number; before: number }> {
  if (ctx.westDown) return { skipped: ctx.westDown };
  try {
    const result = await failover.setSplitWeights.executeWithOptions({ summary: `${s.namespace}/${s.split.name}: east ${move.target}%` }, [
      { ...westSplitRef(ctx, s), eastPercent: move.target, event: { name: move.eventName, reason: move.reason, message: move.message } },
    ]);
    return { eastPercent: result.after.eastPercent, before: result.before.eastPercent };
  } catch (err) {
    if (!notAnswering(err)) throw err;
    markWestDown(ctx, rootMessage(err));
    return { skipped: ctx.westDown! };
  }
}

/** Records, once, that west's API does not answer: its split is left out from now on in this shift. */
export function markWestDown(ctx: FailoverContext, why: string): void {
  ctx.westDown = `west's API does not answer (${why.slice(0, 300)}); its in-mesh clients went down with it`;
  ctx.incident.decide('MeshSplitSkipped', `${ctx.westDown}: Route 53 and east's own splits carry the shift`);
  ctx.tracker.setFact('west split', `left out: ${ctx.westDown}`);
}

/**
 * West asked once, before its split moves: are its mirror services (east's backends) ready? Not
 * answering: west is marked down and left out. Answering but a mirror not ready: the step fails
 * (retryable), since moving west's split would send its clients nowhere.
 */
export async function checkWestMirrors(ctx: FailoverContext): Promise<void> {
  ctx.westDown = undefined;
  const answers = await Promise.all(
    ctx.services.map((s) =>
      westCheck.serviceReadiness
        .executeWithOptions({ summary: `west mirror ${s.namespace}/${s.eastBackend}` }, [
          { kubeconfigSecret: ctx.config.west.kubeconfigSecret, namespace: s.namespace, name: s.eastBackend },
        ])
        .then(
          (readiness) => ({ s, readiness }),
          (error: unknown) => ({ s, error }),
        ),
    ),
  );
  const problems: string[] = [];
  for (const answer of answers) {
    const name = `${answer.s.namespace}/${answer.s.eastBackend}`;
    if ('error' in answer) {
      if (!notAnswering(answer.error)) throw answer.error;
      markWestDown(ctx, rootMessage(answer.error));
      return;
    }
    const r = answer.readiness;
    if (!r.serviceExists || r.ready === 0) problems.push(`${name}: ${r.serviceExists ? `${r.ready} ready endpoints` : 'no such service'}`);
  }
  if (problems.length) {
    throw kubehaFailure({
      type: ErrorType.NotReady,
      message: `west's mirror services are not ready: ${problems.join('; ')}`,
      retryable: true,
      hint: "west's service mirror must point at east's gateway (linkerd multicluster check); the step retries",
    });
  }
  ctx.incident.decide('MirrorsVerified', "west's mirror services point at east");
}

/**
 * Before traffic moves back: a west split left out while west was down is set to match what the other
 * paths carry now, so that the failback moves every path together from the same place.
 */
export async function westSplitCatchUp(ctx: FailoverContext, keyOf: (s: ResolvedService) => string): Promise<void> {
  ctx.westDown = undefined;
  for (const s of ctx.services) {
    const key = keyOf(s);
    const traffic = trafficOf(ctx, key);
    if (!traffic.westSplit?.skipped) continue;
    const target = ctx.incident.status.eastPercent[key] ?? 100;
    const result = await failover.setSplitWeights.executeWithOptions({ summary: `${key}: catch up to east ${target}%` }, [
      {
        ...westSplitRef(ctx, s),
        eastPercent: target,
        event: {
          name: `${s.split.name}.${workflowInfo().workflowId}.${workflowInfo().runId.slice(0, 8)}.catch-up-${target}`,
          reason: 'FailoverShift',
          message: `kubeha: west's split set to east ${target}% to match the DNS weights before failback`,
        },
      },
    ]);
    traffic.westSplit = { eastPercent: result.after.eastPercent };
    publishTraffic(ctx);
    ctx.incident.decide(
      'MeshSplitCaughtUp',
      `${key}: west's API answers again; its split set to east ${result.after.eastPercent}% to match the DNS weights before failback`,
    );
  }
}
