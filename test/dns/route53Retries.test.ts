/**
 * The Route 53 weight change under faults, through a real Temporal server and moto_server: the real
 * activities (withLiveness, as the worker runs them) behind a client whose middleware injects AWS
 * errors and rewrites answers. Throttling and 5xx are retried by Temporal and the change reaches
 * Route 53 once; a PENDING change is waited for; a crash between the UPSERT and INSYNC resumes on the
 * same change id without sending another (unless someone moved the records meanwhile); a missing
 * hosted zone fails at once with a hint.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  Route53ServiceException,
} from '@aws-sdk/client-route-53';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { withLiveness } from '../../activities/activityContext';
import { createDnsActivities, GTM_SET_IDENTIFIERS, type GtmChange, type GtmWeights } from '../../activities/dns/route53';
import { failureInfo } from '../../common/errors';
import { gtmRecordSchema, type GtmRecord, type Route53Settings } from '../../common/inputs/gtm';
import { MOTO_CREDENTIALS, MOTO_REGION, type MotoServer, startMoto } from '../support/moto';
import { startTestTemporal } from '../support/temporal';
import type { setWeightsOnce } from './setWeightsWorkflow';

/** What the middleware does to one command: fail it before it reaches moto, or act on moto's answer. */
interface Stub {
  before?: (command: string) => Error | undefined;
  after?: (command: string, output: { ChangeInfo?: { Id?: string; Status?: string } }) => Promise<Error | undefined>;
}

/** An AWS error as the SDK raises it for an answer with that code and HTTP status. */
function awsError(code: string, httpStatusCode: number): Error {
  return Object.assign(
    new Route53ServiceException({
      name: code,
      $fault: httpStatusCode >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode, requestId: `req-${randomUUID()}`, attempts: 1, totalRetryDelay: 0 },
      message: `${code} (injected)`,
    }),
    { Code: code },
  );
}

/** A connection dropped mid-call, as Node raises it. */
const connectionReset = (): Error => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

const noop = () => undefined;

describe('Route 53 weight changes through Temporal: retries and resumption (moto)', { timeout: 180_000 }, () => {
  let moto: MotoServer;
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  let admin: Route53Client;
  let stubbed: Route53Client;
  let route53: Route53Settings;
  let record: GtmRecord;
  let stub: Stub = {};
  /** Commands that reached moto, in order. */
  const reached: string[] = [];
  /** The change ids GetChange asked moto about. */
  const polled: string[] = [];
  const count = (command: string) => reached.filter((c) => c === command).length;

  before(async () => {
    // Every injected fault is an "Activity failed" warning: keep the report readable.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } },
    });
    [moto, env] = await Promise.all([startMoto(), startTestTemporal()]);
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./setWeightsWorkflow'),
      logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop },
    });
    admin = new Route53Client({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    // One SDK attempt per call: every retry these tests see is Temporal's.
    stubbed = new Route53Client({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
    stubbed.middlewareStack.add((next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      const early = stub.before?.(command);
      if (early) throw early;
      reached.push(command);
      if (command === 'GetChange') polled.push(String((args.input as { Id?: string }).Id));
      const result = await next(args);
      // moto gives every change the same id: a unique one tells which change a poll asks about (moto answers INSYNC for any id).
      const answer = result.output as { ChangeInfo?: { Id?: string } };
      if (command === 'ChangeResourceRecordSets' && answer.ChangeInfo) answer.ChangeInfo.Id = `/change/C${randomUUID().slice(0, 8).toUpperCase()}`;
      const late = await stub.after?.(command, result.output as { ChangeInfo?: { Id?: string; Status?: string } });
      if (late) throw late;
      return result;
    });
    route53 = { endpoint: moto.endpoint };
  });
  after(async () => {
    admin?.destroy();
    stubbed?.destroy();
    await Promise.all([moto?.stop(), env?.teardown()]);
  });
  beforeEach(async () => {
    await moto.reset();
    stub = {};
    reached.length = 0;
    polled.length = 0;
    const zone = await admin.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `ref-${randomUUID()}` }));
    record = gtmRecordSchema.parse({
      hostedZoneId: zone.HostedZone!.Id!.replace('/hostedzone/', ''),
      zoneName: 'example.com',
      recordName: 'podinfo.example.com',
      ttl: 30,
      west: { values: ['10.10.0.10'] },
      east: { values: ['10.20.0.10'] },
    });
  });

  /** Writes the pair straight to moto, as an operator (or another tool) would. */
  async function putPair(weights: Partial<GtmWeights>): Promise<void> {
    const changes = (['west', 'east'] as const)
      .filter((side) => weights[side] !== undefined)
      .map((side) => ({
        Action: 'UPSERT' as const,
        ResourceRecordSet: {
          Name: 'podinfo.example.com.',
          Type: 'A' as const,
          SetIdentifier: GTM_SET_IDENTIFIERS[side],
          Weight: weights[side],
          TTL: 30,
          ResourceRecords: record[side].values.map((Value) => ({ Value })),
        },
      }));
    await admin.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: record.hostedZoneId, ChangeBatch: { Changes: changes } }));
  }

  /** The weights moto holds, per set identifier. */
  async function held(): Promise<Record<string, number | undefined>> {
    const list = await admin.send(new ListResourceRecordSetsCommand({ HostedZoneId: record.hostedZoneId }));
    return Object.fromEntries(
      (list.ResourceRecordSets ?? []).filter((r) => r.Name === 'podinfo.example.com.' && r.Type === 'A').map((r) => [r.SetIdentifier ?? '(plain)', r.Weight]),
    );
  }

  /** Runs the workflow on a fresh worker; returns its result (or failure) and the attempt the activity ended on. */
  async function run(weights: GtmWeights): Promise<{ result?: GtmChange; failure?: unknown; attempt: number }> {
    const taskQueue = `dns-${randomUUID()}`;
    const activities = withLiveness(createDnsActivities({ route53: () => stubbed, pollIntervalMs: 50 }));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: bundle,
      activities,
      shutdownGraceTime: '1 second',
    });
    const workflowId = `set-weights-${randomUUID()}`;
    const outcome = await worker.runUntil(
      env.client.workflow.execute<typeof setWeightsOnce>('setWeightsOnce', { taskQueue, workflowId, args: [{ route53, record, weights }] }).then(
        (result) => ({ result }),
        (failure: unknown) => ({ failure }),
      ),
    );
    // The server writes ActivityTaskStarted once, at the end, with the attempt that finished.
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const started = history.events?.find((e) => e.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes;
    return { ...outcome, attempt: started?.attempt ?? 0 };
  }

  test('throttled ChangeResourceRecordSets (twice): Temporal retries and the change reaches Route 53 once', async () => {
    await putPair({ west: 100, east: 0 });
    let throttles = 2;
    stub.before = (command) => (command === 'ChangeResourceRecordSets' && throttles-- > 0 ? awsError('Throttling', 400) : undefined);
    const { result, failure, attempt } = await run({ west: 0, east: 100 });
    assert.equal(failure, undefined);
    assert.equal(attempt, 3, 'two throttled attempts, then the one that went through');
    assert.equal(count('ChangeResourceRecordSets'), 1, 'exactly one change reached Route 53');
    assert.equal(count('ListResourceRecordSets'), 3, 'each attempt read first');
    assert.deepEqual(
      { changed: result?.changed, before: result?.before, resumed: result?.resumed },
      { changed: true, before: { west: 100, east: 0 }, resumed: undefined },
    );
    assert.deepEqual(await held(), { [GTM_SET_IDENTIFIERS.west]: 0, [GTM_SET_IDENTIFIERS.east]: 100 });
  });

  test('5xx on ListResourceRecordSets (500, then 503): retried, then the weights are set', async () => {
    const errors = [awsError('InternalFailure', 500), awsError('ServiceUnavailable', 503)];
    stub.before = (command) => (command === 'ListResourceRecordSets' ? errors.shift() : undefined);
    const { result, failure, attempt } = await run({ west: 100, east: 0 });
    assert.equal(failure, undefined);
    assert.equal(attempt, 3);
    assert.equal(count('ListResourceRecordSets'), 1, 'the two failed reads never reached moto');
    assert.equal(count('ChangeResourceRecordSets'), 1);
    assert.deepEqual(result?.before, {}, 'no records existed');
    assert.deepEqual(await held(), { [GTM_SET_IDENTIFIERS.west]: 100, [GTM_SET_IDENTIFIERS.east]: 0 });
  });

  test('a change PENDING for the first polls is waited for until INSYNC, in one attempt', async () => {
    let pending = 3;
    stub.after = async (command, output) => {
      if (command === 'GetChange' && pending-- > 0 && output.ChangeInfo) output.ChangeInfo.Status = 'PENDING';
      return undefined;
    };
    const { result, failure, attempt } = await run({ west: 50, east: 50 });
    assert.equal(failure, undefined);
    assert.equal(attempt, 1);
    assert.equal(count('GetChange'), 4, 'three PENDING answers, then INSYNC');
    assert.equal(count('ChangeResourceRecordSets'), 1);
    assert.deepEqual(new Set(polled), new Set([result?.changeId]), 'every poll asked about the change sent');
    assert.ok((result?.waitedMs ?? 0) >= 3 * 50, `waited ${result?.waitedMs} ms across three pauses`);
    assert.deepEqual(await held(), { [GTM_SET_IDENTIFIERS.west]: 50, [GTM_SET_IDENTIFIERS.east]: 50 });
  });

  test('a crash between the UPSERT and INSYNC: the next attempt sends nothing and waits for the same change id', async () => {
    await putPair({ west: 100, east: 0 });
    let sentId: string | undefined;
    let resets = 1;
    let pending = 1;
    stub.after = async (command, output) => {
      if (command === 'ChangeResourceRecordSets') sentId = output.ChangeInfo?.Id;
      // The resumed attempt's first poll finds the change still PENDING: it must wait, not just look once.
      if (command === 'GetChange' && pending-- > 0 && output.ChangeInfo) output.ChangeInfo.Status = 'PENDING';
      return undefined;
    };
    stub.before = (command) => (command === 'GetChange' && resets-- > 0 ? connectionReset() : undefined);
    const { result, failure, attempt } = await run({ west: 0, east: 100 });
    assert.equal(failure, undefined);
    assert.equal(attempt, 2);
    assert.equal(count('ChangeResourceRecordSets'), 1, 'no second change');
    assert.match(sentId ?? '', /^\/change\/C/);
    assert.deepEqual(polled, [sentId, sentId], 'the second attempt polled the first attempt’s change until INSYNC');
    assert.deepEqual(
      { changed: result?.changed, changeId: result?.changeId, resumed: result?.resumed, before: result?.before },
      { changed: true, changeId: sentId, resumed: true, before: { west: 100, east: 0 } },
      'resumed, reporting what the first attempt read before it acted',
    );
    assert.ok((result?.waitedMs ?? 0) >= 50, `waited ${result?.waitedMs} ms for INSYNC`);
    assert.deepEqual(await held(), { [GTM_SET_IDENTIFIERS.west]: 0, [GTM_SET_IDENTIFIERS.east]: 100 });
  });

  test('a second crash while the resumed attempt waits: the third attempt still waits for the same change', async () => {
    await putPair({ west: 100, east: 0 });
    let sentId: string | undefined;
    let getChanges = 0;
    stub.after = async (command, output) => {
      if (command === 'ChangeResourceRecordSets') sentId = output.ChangeInfo?.Id;
      if (command === 'GetChange' && getChanges === 2 && output.ChangeInfo) output.ChangeInfo.Status = 'PENDING';
      return undefined;
    };
    // GetChange calls: 1 fails (first attempt), 2 answers PENDING and 3 fails (second attempt), 4 answers (third).
    stub.before = (command) => (command === 'GetChange' && [1, 3].includes(++getChanges) ? connectionReset() : undefined);
    const { result, failure, attempt } = await run({ west: 0, east: 100 });
    assert.equal(failure, undefined);
    assert.equal(attempt, 3);
    assert.equal(count('ChangeResourceRecordSets'), 1, 'the checkpoint outlived the wait of the second attempt');
    assert.deepEqual(polled, [sentId, sentId]);
    assert.deepEqual({ changeId: result?.changeId, resumed: result?.resumed }, { changeId: sentId, resumed: true });
  });

  test('a crash before INSYNC, then the records moved by someone else: the next attempt sends a new change', async () => {
    await putPair({ west: 100, east: 0 });
    const sentIds: string[] = [];
    let resets = 1;
    stub.after = async (command, output) => {
      if (command !== 'ChangeResourceRecordSets') return undefined;
      sentIds.push(output.ChangeInfo?.Id ?? '');
      // Right after the first change, an operator sets west to 30: the records no longer match the checkpoint.
      if (sentIds.length === 1) await putPair({ west: 30 });
      return undefined;
    };
    stub.before = (command) => (command === 'GetChange' && resets-- > 0 ? connectionReset() : undefined);
    const { result, failure, attempt } = await run({ west: 0, east: 100 });
    assert.equal(failure, undefined);
    assert.equal(attempt, 2);
    assert.equal(count('ChangeResourceRecordSets'), 2, 'the checkpoint is not trusted once the records differ');
    assert.equal(sentIds.length, 2);
    assert.notEqual(sentIds[0], sentIds[1]);
    assert.deepEqual(polled, [sentIds[1]], 'only the new change was polled');
    assert.deepEqual(
      { changeId: result?.changeId, resumed: result?.resumed, before: result?.before },
      { changeId: sentIds[1], resumed: undefined, before: { west: 30, east: 100 } },
    );
    assert.deepEqual(await held(), { [GTM_SET_IDENTIFIERS.west]: 0, [GTM_SET_IDENTIFIERS.east]: 100 });
  });

  test('a hosted zone that does not exist fails at once, not retried, with a hint; nothing is created', async () => {
    record = { ...record, hostedZoneId: 'ZMISSING0000' };
    const { failure, attempt } = await run({ west: 100, east: 0 });
    assert.ok(failure instanceof WorkflowFailedError, String(failure));
    const activity = failure.cause;
    assert.ok(activity instanceof ActivityFailure);
    assert.equal(activity.retryState, 'NON_RETRYABLE_FAILURE');
    const cause = activity.cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'CloudRejected');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /hosted zone ZMISSING0000 \(example\.com\) does not exist/);
    assert.match(failureInfo(cause)?.hint ?? '', /check services\[\]\.gtm\.hostedZoneId/);
    assert.equal(attempt, 1);
    assert.deepEqual(reached, ['ListResourceRecordSets'], 'one read, no change');
    const zones = await admin.send(new ListHostedZonesCommand({}));
    assert.deepEqual(
      (zones.HostedZones ?? []).map((z) => z.Name),
      ['example.com.'],
      'no zone was created',
    );
  });
});
