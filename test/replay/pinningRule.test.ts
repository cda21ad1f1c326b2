/**
 * Runs started before join credentials needed pinned hosts keep replaying: the committed happy-path
 * history, its input turned to trustOnFirstUse hosts (as such a run in flight would carry), replays
 * without nondeterminism, while today's validation refuses that input for a new run.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { projectRoot } from '../../lib/paths';
import { workflowBundle } from '../support/workflowHarness';

interface Payload {
  metadata: Record<string, string>;
  data: string;
}

/** The happy-path history with every host unpinned (trustOnFirstUse) in the run's input. */
async function unpinnedHistory(): Promise<{ history: { events: Array<Record<string, unknown>> }; input: Record<string, unknown> }> {
  const file = path.join(projectRoot, 'test', 'replay', 'histories', 'bootstrap-happy-path.json');
  const history = JSON.parse(await readFile(file, 'utf8')) as { events: Array<Record<string, unknown>> };
  const started = history.events[0].workflowExecutionStartedEventAttributes as { input: { payloads: Payload[] } };
  const payload = started.input.payloads[0];
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as { hosts: Array<{ ssh: Record<string, unknown> }> };
  assert.ok(
    input.hosts.every((h) => typeof h.ssh.hostKeyFingerprint === 'string'),
    'the recorded run pinned its hosts',
  );
  for (const host of input.hosts) {
    delete host.ssh.hostKeyFingerprint;
    host.ssh.trustOnFirstUse = true;
  }
  payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
  return { history, input };
}

test('a run started with trustOnFirstUse hosts before the pinning rule replays; a new one is refused', { timeout: 120_000 }, async () => {
  const { history, input } = await unpinnedHistory();
  const refused = bootstrapStackedEtcdInputSchema.safeParse(input);
  assert.equal(refused.success, false, 'a new run with these hosts is refused');
  assert.match(JSON.stringify(refused.error?.issues), /joinCredentialsToUnpinnedHosts/);

  const results = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, [{ workflowId: 'bootstrap-unpinned-in-flight', history }]))
    results.push(result);
  assert.equal(results.length, 1);
  assert.equal(results[0].error, undefined, `replay: ${results[0].error?.message}`);
});
