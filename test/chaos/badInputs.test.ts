/**
 * The bad-input campaign: for each workflow, at least 50 malformed or dangerous inputs as
 * a Web UI user would paste them (test/chaos/badInputs/), each one mutation of a valid example, run
 * through the REAL workflow on a real dev server with encrypted payloads. Every run must fail at
 * once with a non-retryable InvalidInput failure whose message and details name the expected field
 * and rule, and no activity may run (counted by the stubs and read from the history).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { Client, type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, type Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { SecretStore } from '../../activities/secrets/store';
import type { RemoteShell } from '../../activities/ssh/types';
import { ErrorType } from '../../common/errors';
import type { InputIssue } from '../../common/validation';
import { dataConverterFor } from '../../lib/codec/dataConverter';
import { generateKey, keyringOf } from '../../lib/codec/keyring';
import { startTestTemporal } from '../support/temporal';
import { stubWorker } from '../support/workflowHarness';
import type { BadInputCase } from './badInputs/cases';
import { CAMPAIGNS, type WorkflowCampaign } from './badInputs/index';

/** Runs of one workflow started at once; the dev server and the worker take these without queueing long. */
const BATCH = 16;

/** Activity calls per workflow id: every kubeha activity is a stub that counts, then refuses to work. */
const calls = new Map<string, number>();

/** Every activity name the worker registers, each replaced by a counting stub. */
function countingActivities(): Record<string, () => Promise<never>> {
  const names = Object.keys(createActivities({ secrets: {} as SecretStore, shell: {} as RemoteShell }));
  return Object.fromEntries(
    names.map((name) => [
      name,
      async () => {
        const id = Context.current().info.workflowExecution?.workflowId ?? '(none)';
        calls.set(id, (calls.get(id) ?? 0) + 1);
        throw ApplicationFailure.nonRetryable(`stub ${name} ran: the input was accepted`, 'StubActivityRan');
      },
    ]),
  );
}

/** What one case's run did. */
interface CaseOutcome {
  case: BadInputCase;
  /** Empty when the run failed as it must. */
  problems: string[];
}

let env: TestWorkflowEnvironment;
let client: Client;
let worker: Worker;
let taskQueue: string;
let running: Promise<void>;

before(async () => {
  // Each refused run is a "Workflow failed" warning: hundreds of them would bury the report.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } },
  });
  env = await startTestTemporal();
  // Encrypted payloads, as kubeha's clients and worker send them: the inputs (some with key-like
  // strings in them) never reach the server in clear, and the failure details come back decoded.
  const { codec } = dataConverterFor(keyringOf([generateKey()]));
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: { payloadCodecs: [codec] } });
  ({ worker, taskQueue } = await stubWorker(env, countingActivities(), `bad-inputs-${randomUUID()}`, { payloadCodecs: [codec] }));
  running = worker.run();
});
after(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await env?.teardown();
});

/** Waits for the run's end, or for an activity of it to run (then the run is terminated: it took the input). */
async function settle(handle: WorkflowHandle): Promise<{ kind: 'failed'; error: unknown } | { kind: 'completed' | 'activity-ran' }> {
  let settled = false;
  const result = handle.result().then(
    () => ({ kind: 'completed' as const }),
    (error: unknown) => ({ kind: 'failed' as const, error }),
  );
  const activityRan = (async () => {
    while (!settled) {
      if ((calls.get(handle.workflowId) ?? 0) > 0) return { kind: 'activity-ran' as const };
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  })();
  const outcome = (await Promise.race([result, activityRan])) ?? (await result);
  settled = true;
  if (outcome.kind !== 'failed') await handle.terminate('the bad-input campaign saw this input accepted').catch(() => undefined);
  return outcome;
}

/** Runs one case through the real workflow and lists what is wrong with its failure. */
async function runCase(campaign: WorkflowCampaign, badCase: BadInputCase): Promise<CaseOutcome> {
  const workflowId = `bad-${campaign.workflowType}-${randomUUID()}`;
  const handle = await client.workflow.start(campaign.workflowType, { args: [badCase.input], taskQueue, workflowId, workflowExecutionTimeout: '5 minutes' });
  const outcome = await settle(handle);
  const problems: string[] = [];
  if (outcome.kind !== 'failed') problems.push(`the run was not refused (${outcome.kind})`);
  else {
    const failure = outcome.error instanceof WorkflowFailedError ? outcome.error.cause : undefined;
    if (!(failure instanceof ApplicationFailure))
      problems.push(`failed with ${String((outcome.error as Error)?.message ?? outcome.error)}, not an application failure`);
    else {
      if (failure.type !== ErrorType.InvalidInput) problems.push(`failure type ${failure.type}, not InvalidInput`);
      if (!failure.nonRetryable) problems.push('the failure is retryable');
      if (!failure.message.includes(`${badCase.path}: `)) problems.push(`the message does not name ${badCase.path}: ${failure.message.slice(0, 300)}`);
      const issues = (failure.details?.[0] as { issues?: InputIssue[] } | undefined)?.issues ?? [];
      if (!issues.some((i) => i.path === badCase.path && badCase.rule.test(i.message))) {
        problems.push(`no issue at ${badCase.path} states ${badCase.rule}; issues: ${JSON.stringify(issues.slice(0, 5)).slice(0, 400)}`);
      }
    }
  }
  const counted = calls.get(workflowId) ?? 0;
  if (counted > 0) problems.push(`${counted} activity call(s) ran`);
  const history = await handle.fetchHistory();
  const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
  if (scheduled > 0) problems.push(`${scheduled} activity task(s) scheduled in history`);
  return { case: badCase, problems };
}

describe('bad inputs of every workflow', { timeout: 600_000 }, () => {
  for (const campaign of CAMPAIGNS) {
    test(`${campaign.workflowType}: every bad input fails at once, non-retryable InvalidInput naming the field, no activity run`, async (t) => {
      assert.equal(campaign.schema.safeParse(campaign.valid()).success, true, 'the valid example the cases mutate is itself valid');
      const cases = campaign.cases();
      assert.ok(cases.length >= 50, `${cases.length} cases; the campaign wants at least 50 per workflow`);
      assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
      const outcomes: CaseOutcome[] = [];
      for (let i = 0; i < cases.length; i += BATCH) {
        outcomes.push(...(await Promise.all(cases.slice(i, i + BATCH).map((c) => runCase(campaign, c)))));
      }
      const failed = outcomes.filter((o) => o.problems.length > 0);
      const fields = new Set(cases.map((c) => c.path.replace(/\[\d+\]/g, '[]')));
      t.diagnostic(
        `${campaign.workflowType}: ${cases.length} bad inputs over ${fields.size} fields; ${cases.length - failed.length} refused as InvalidInput (non-retryable, field and rule named, 0 activities); ${failed.length} not`,
      );
      assert.deepEqual(
        failed.map((o) => `${o.case.name} (${o.case.path}): ${o.problems.join('; ')}`),
        [],
      );
    });
  }
});
