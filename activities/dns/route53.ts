/**
 * Global traffic management through Route 53: for each failover service, a pair of weighted records
 * (one name and type, set identifiers `kubeha-west` and `kubeha-east`) that kubeha owns. Reading is
 * find-only; a weight change reads first and acts only when the records differ, UPSERTs both records in
 * one change batch (clients never see both sides at 0 or a half-applied change), then waits for the
 * change to be INSYNC; a retry after a crash before INSYNC waits for the change the crashed attempt
 * sent (./checkpoint.ts) rather than sending another. Records of the same name that kubeha does not
 * own are never touched: a plain (non-weighted) record there is a conflict with a hint.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { GtmRecord, Route53Settings } from '../../common/inputs/gtm';
import { awsCall, isAwsError } from '../aws/awsErrors';
import { cancellationSignal } from '../activityContext';
import { pollUntil } from '../kubernetes/poll';
import { type ChangeCheckpoint, checkpointChange, earlierChange } from './checkpoint';
import type { DnsActivities, GtmChange, GtmSide, GtmState, GtmWeights } from './types';

export type { DnsActivities, GtmChange, GtmSide, GtmState, GtmWeights } from './types';

/** The set identifier of each side's record: what marks a record as kubeha's. */
export const GTM_SET_IDENTIFIERS = { west: 'kubeha-west', east: 'kubeha-east' } as const;

/** What the DNS activities need. */
export interface DnsDependencies {
  /** Builds the Route 53 client for the settings. Default: the SDK's default credential chain. */
  route53?: (settings: Route53Settings) => Route53Client;
  /** Pause between two GetChange calls. Default 2000 ms. */
  pollIntervalMs?: number;
}

const zoneId = (record: GtmRecord): string => record.hostedZoneId.replace(/^\/hostedzone\//, '');
const fqdn = (name: string): string => `${name.replace(/\.$/, '')}.`;
const sameName = (a: string | undefined, b: string): boolean =>
  (a ?? '').replace(/\\052/g, '*').replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();

/**
 * One Route 53 call through awsCall. A zone that does not exist is a wrong input: awsCall already makes
 * it non-retryable, but only this file knows which input field names the zone.
 */
async function route53Call<T>(record: GtmRecord, operation: string, call: (options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
  try {
    return await awsCall(`route53:${operation}`, call);
  } catch (err) {
    if (!isAwsError(err, 'NoSuchHostedZone')) throw err;
    throw kubehaFailure({
      type: ErrorType.CloudRejected,
      message: `Route 53 hosted zone ${zoneId(record)} (${record.zoneName}) does not exist: ${operation} answered NoSuchHostedZone`,
      retryable: false,
      hint: `check services[].gtm.hostedZoneId: it must be the id Route 53 shows for ${record.zoneName}, in the account of the worker's AWS credentials`,
      cause: err instanceof Error ? err : undefined,
      details: { awsCode: 'NoSuchHostedZone', awsOperation: `route53:${operation}`, hostedZoneId: zoneId(record) },
    });
  }
}

/** The records of the name and type, as Route 53 lists them. */
async function recordsOf(client: Route53Client, record: GtmRecord): Promise<ResourceRecordSet[]> {
  const answer = await route53Call(record, 'ListResourceRecordSets', (options) =>
    client.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId(record), StartRecordName: fqdn(record.recordName), StartRecordType: record.type, MaxItems: 10 }),
      options,
    ),
  );
  return (answer.ResourceRecordSets ?? []).filter((r) => sameName(r.Name, record.recordName) && r.Type === record.type);
}

function wantedSet(record: GtmRecord, side: GtmSide, weight: number): ResourceRecordSet {
  return {
    Name: fqdn(record.recordName),
    Type: record.type,
    SetIdentifier: GTM_SET_IDENTIFIERS[side],
    Weight: weight,
    TTL: record.ttl,
    ResourceRecords: record[side].values.map((Value) => ({ Value })),
    // Optional: with a health check, Route 53 itself stops answering a side that fails it, between shifts.
    ...(record[side].healthCheckId ? { HealthCheckId: record[side].healthCheckId } : {}),
  };
}

function inShape(found: ResourceRecordSet | undefined, wanted: ResourceRecordSet): boolean {
  const values = (r: ResourceRecordSet | undefined) =>
    (r?.ResourceRecords ?? [])
      .map((v) => v.Value ?? '')
      .sort()
      .join(',');
  return found !== undefined && found.TTL === wanted.TTL && values(found) === values(wanted) && found.HealthCheckId === wanted.HealthCheckId;
}

function stateOf(record: GtmRecord, sets: ResourceRecordSet[]): GtmState {
  const foreign = sets.find((s) => !s.SetIdentifier);
  if (foreign) {
    throw kubehaFailure({
      type: ErrorType.Conflict,
      message: `${record.recordName} ${record.type} in zone ${record.zoneName} is a plain record, not a weighted pair: kubeha does not replace records it does not own`,
      retryable: false,
      hint: `delete that record (or point the failover at another name); kubeha then keeps the weighted records ${GTM_SET_IDENTIFIERS.west} and ${GTM_SET_IDENTIFIERS.east}`,
    });
  }
  const west = sets.find((s) => s.SetIdentifier === GTM_SET_IDENTIFIERS.west);
  const east = sets.find((s) => s.SetIdentifier === GTM_SET_IDENTIFIERS.east);
  return {
    ...(west ? { west: west.Weight ?? 0 } : {}),
    ...(east ? { east: east.Weight ?? 0 } : {}),
    missing: [...(west ? [] : ['west' as const]), ...(east ? [] : ['east' as const])],
    inShape: inShape(west, wantedSet(record, 'west', 0)) && inShape(east, wantedSet(record, 'east', 0)),
  };
}

function checkWeights(weights: GtmWeights): void {
  for (const side of ['west', 'east'] as const) {
    const w = weights[side];
    if (!Number.isInteger(w) || w < 0 || w > 255) {
      throw kubehaFailure({
        type: ErrorType.InvalidInput,
        message: `weights.${side} must be a whole number from 0 to 255 (Route 53's range), got ${w}`,
        retryable: false,
        hint: 'the failover steps give percentages: 0 to 100',
      });
    }
  }
}

type SetInput = Parameters<DnsActivities['setGtmWeights']>[0];

/** UPSERTs both records in one change batch; returns Route 53's change id. */
async function sendChange(client: Route53Client, input: SetInput): Promise<string> {
  const answer = await route53Call(input.record, 'ChangeResourceRecordSets', (options) =>
    client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId(input.record),
        ChangeBatch: {
          Comment: `kubeha: ${input.record.recordName} west ${input.weights.west}, east ${input.weights.east}`,
          Changes: (['west', 'east'] as const).map((side) => ({ Action: 'UPSERT', ResourceRecordSet: wantedSet(input.record, side, input.weights[side]) })),
        },
      }),
      options,
    ),
  );
  return answer.ChangeInfo?.Id ?? '';
}

/** Polls GetChange until the checkpoint's change is INSYNC; heartbeats the checkpoint with each status. */
async function untilInSync(client: Route53Client, input: SetInput, checkpoint: ChangeCheckpoint, intervalMs: number): Promise<GtmChange> {
  const { changeId } = checkpoint;
  const started = Date.now();
  const timeoutSeconds = input.syncTimeoutSeconds ?? 300;
  await pollUntil<void, ChangeCheckpoint & { status: string }>({
    timeoutMs: timeoutSeconds * 1000,
    intervalMs,
    signal: cancellationSignal(),
    check: async () => {
      const change = await route53Call(input.record, 'GetChange', (options) => client.send(new GetChangeCommand({ Id: changeId }), options));
      const status = change.ChangeInfo?.Status ?? 'UNKNOWN';
      return status === 'INSYNC' ? { done: true, value: undefined } : { done: false, progress: { ...checkpoint, status } };
    },
    onDeadline: ({ status }) =>
      kubehaFailure({
        type: ErrorType.DeadlineExceeded,
        message: `Route 53 change ${changeId} for ${input.record.recordName} still ${status} after ${timeoutSeconds} s`,
        retryable: true,
        hint: 'Route 53 accepted the change and is still propagating it; a retry waits for the same change and does not send it again',
      }),
  });
  return { changed: true, weights: input.weights, before: checkpoint.before, changeId, waitedMs: Date.now() - started };
}

/** Builds the Route 53 activities. */
export function createDnsActivities(deps: DnsDependencies = {}): DnsActivities {
  const clients = new Map<string, Route53Client>();
  const clientFor =
    deps.route53 ??
    ((settings: Route53Settings): Route53Client => {
      const key = settings.endpoint ?? '';
      let client = clients.get(key);
      // Route 53 is global: its API lives in us-east-1 whatever the cluster's region.
      if (!client) clients.set(key, (client = new Route53Client({ region: 'us-east-1', ...(settings.endpoint ? { endpoint: settings.endpoint } : {}) })));
      return client;
    });
  const pollIntervalMs = deps.pollIntervalMs ?? 2000;

  return {
    async readGtmWeights(input) {
      return stateOf(input.record, await recordsOf(clientFor(input.route53), input.record));
    },

    async setGtmWeights(input) {
      checkWeights(input.weights);
      const client = clientFor(input.route53);
      const found = stateOf(input.record, await recordsOf(client, input.record));
      const before = { ...(found.west !== undefined ? { west: found.west } : {}), ...(found.east !== undefined ? { east: found.east } : {}) };
      if (found.inShape && found.west === input.weights.west && found.east === input.weights.east) {
        const sent = earlierChange(input.weights);
        // Set by an earlier attempt that stopped before INSYNC: wait for its change, do not send another.
        if (sent) return { ...(await untilInSync(client, input, sent, pollIntervalMs)), resumed: true };
        return { changed: false, weights: input.weights, before };
      }
      // Records that differ are changed even when an earlier attempt sent these weights: someone moved them since.
      const checkpoint = { changeId: await sendChange(client, input), weights: input.weights, before };
      checkpointChange(checkpoint);
      return untilInSync(client, input, checkpoint, pollIntervalMs);
    },
  };
}
