/** Which backups are pruned: complete ones beyond keep, and crashed attempts older than every kept one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pruneDecision } from '../../activities/backup/prune';

const ids = ['t6', 't5', 't4', 't3', 't2', 't1'];

test('only complete backups count toward keep; a crashed attempt never pushes a good one out', () => {
  const complete = new Set(['t6', 't4', 't3', 't1']);
  assert.deepEqual(pruneDecision(ids, complete, 2), { kept: ['t6', 't5', 't4'], deleted: ['t3', 't2', 't1'] });
  assert.deepEqual(pruneDecision(ids, complete, 10), { kept: ids, deleted: [] });
});

test("the run's own backup is never deleted, and with nothing complete nothing goes", () => {
  assert.deepEqual(pruneDecision(ids, new Set(['t6', 't5', 't1']), 1, 't1').deleted, ['t5', 't4', 't3', 't2']);
  assert.deepEqual(pruneDecision(ids, new Set(), 1).deleted, []);
});
