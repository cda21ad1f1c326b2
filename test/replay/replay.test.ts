/**
 * Replays committed histories of finished runs against today's workflow code: a change that would
 * break runs already in flight (nondeterminism) fails here. Re-record deliberately with
 * test/replay/recordHistories.ts.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { projectRoot } from '../../lib/paths';
import { workflowBundle } from '../support/workflowHarness';

const dir = path.join(projectRoot, 'test', 'replay', 'histories');

test('committed histories replay without nondeterminism', { timeout: 120_000 }, async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 5, `expected recorded histories in ${dir}, found ${files.length}`);
  const histories = await Promise.all(
    files.map(async (file) => ({ workflowId: path.basename(file, '.json'), history: JSON.parse(await readFile(path.join(dir, file), 'utf8')) })),
  );
  const replayed: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
    assert.equal(result.error, undefined, `${result.workflowId}: ${result.error?.message}`);
    replayed.push(result.workflowId);
  }
  assert.deepEqual(
    replayed.sort(),
    files.map((f) => path.basename(f, '.json')),
  );
});
