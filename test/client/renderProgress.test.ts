import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Progress } from '../../common/progress';
import { changedLines, duration, eraseLines, fitToWidth, renderProgress, STATE_SYMBOL, visibleLength } from '../../client/renderProgress';
import { createProgressView } from '../../client/followProgress';

/** A run in the middle of joining control planes: one step done, one running with hosts, the rest pending. */
function joining(): Progress {
  return {
    workflow: 'BootstrapStackedEtcd',
    subject: 'prod-a',
    phase: 'running',
    currentStep: 'join-control-plane',
    steps: [
      {
        step: 'ensure-load-balancer',
        state: 'done',
        reason: 'Created',
        message: 'NLB prod-a-k8s-api created',
        startedAt: '2025-01-01T10:00:00.000Z',
        finishedAt: '2025-01-01T10:01:05.000Z',
        attempts: 1,
        hosts: [],
      },
      {
        step: 'prepare-hosts',
        state: 'done',
        attempts: 1,
        hosts: [{ host: 'cp-1', state: 'done', reason: 'Prepared', updatedAt: '2025-01-01T10:02:00.000Z' }],
      },
      {
        step: 'join-control-plane',
        state: 'running',
        reason: 'Joining',
        message: 'cp-2 joins, one at a time',
        startedAt: '2025-01-01T10:05:00.000Z',
        attempts: 2,
        hosts: [
          { host: 'cp-2', state: 'waiting', reason: 'WaitingTargetHealthy', message: 'target initial for 12 s', updatedAt: '2025-01-01T10:06:00.000Z' },
          { host: 'cp-3', state: 'pending', updatedAt: '2025-01-01T10:05:00.000Z' },
        ],
      },
      { step: 'skipped-one', state: 'skipped', reason: 'NotSelected', attempts: 0, hosts: [] },
      { step: 'verify', state: 'pending', attempts: 0, hosts: [] },
    ],
    facts: { 'load balancer': 'internal-prod-a-k8s-api-123.elb.us-east-1.amazonaws.com' },
    updatedAt: '2025-01-01T10:06:00.000Z',
  };
}

describe('renderProgress', () => {
  test('a headline (where the traffic is) comes right after the title, before the wait and the steps', () => {
    const progress = { ...joining(), headline: ['kubeha-demo/podinfo: DNS podinfo.example.com A west 0 / east 100'], waitingFor: 'the alert to resolve' };
    const lines = renderProgress(progress);
    assert.equal(lines[1], '  kubeha-demo/podinfo: DNS podinfo.example.com A west 0 / east 100');
    assert.equal(lines[2], '  waiting for: the alert to resolve');
    assert.deepEqual(
      renderProgress(joining())
        .slice(1)
        .filter((l) => l.includes('DNS')),
      [],
    );
  });

  test('renders a header, one line per step with its symbol, hosts under the running step, then facts', () => {
    assert.deepEqual(renderProgress(joining()), [
      'BootstrapStackedEtcd prod-a: running (step join-control-plane)',
      '  ✓ ensure-load-balancer  Created: NLB prod-a-k8s-api created [1 min 5 s]',
      '  ✓ prepare-hosts',
      '  ▶ join-control-plane    Joining: cp-2 joins, one at a time (attempt 2)',
      '      ⏸ cp-2  WaitingTargetHealthy: target initial for 12 s',
      '      … cp-3',
      '  – skipped-one           NotSelected',
      '  … verify',
      '  facts:',
      '    load balancer: internal-prod-a-k8s-api-123.elb.us-east-1.amazonaws.com',
    ]);
  });

  test('shows why the run waits under the header', () => {
    const progress = { ...joining(), phase: 'waiting' as const, waitingFor: 'an operator: retry or abort signal' };
    const lines = renderProgress(progress);
    assert.equal(lines[0], 'BootstrapStackedEtcd prod-a: waiting (step join-control-plane)');
    assert.equal(lines[1], '  waiting for: an operator: retry or abort signal');
  });

  test('lists the hosts of a failed step, so the operator sees which host broke it', () => {
    const progress = joining();
    progress.steps[2] = {
      ...progress.steps[2],
      state: 'failed',
      reason: 'StepFailed',
      message: 'kubeadm join failed on cp-2',
      finishedAt: '2025-01-01T10:07:30.000Z',
    };
    progress.steps[2].hosts[0] = { host: 'cp-2', state: 'failed', reason: 'CommandFailed', message: 'exit 1', updatedAt: '2025-01-01T10:07:30.000Z' };
    const lines = renderProgress(progress);
    assert.ok(lines.includes('  ✗ join-control-plane    StepFailed: kubeadm join failed on cp-2 (attempt 2) [2 min 30 s]'), lines.join('\n'));
    assert.ok(lines.includes('      ✗ cp-2  CommandFailed: exit 1'), lines.join('\n'));
  });

  test('flat mode names the step on every host line', () => {
    const lines = renderProgress(joining(), { flat: true });
    assert.ok(lines.includes('      ⏸ join-control-plane/cp-2  WaitingTargetHealthy: target initial for 12 s'), lines.join('\n'));
    assert.ok(lines.includes('      … join-control-plane/cp-3'), lines.join('\n'));
  });

  test('colour wraps only the symbols in ANSI escapes, and facts can be left out', () => {
    const plain = renderProgress(joining(), { facts: false });
    const coloured = renderProgress(joining(), { color: true, facts: false });
    assert.equal(coloured.length, plain.length);
    assert.ok(!plain.some((l) => l.includes('facts:')));
    assert.equal(coloured[1], '  \x1b[32m✓\x1b[0m ensure-load-balancer  Created: NLB prod-a-k8s-api created [1 min 5 s]');
    assert.deepEqual(
      coloured.map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')),
      plain,
    );
  });

  test('a symbol for every state, all different', () => {
    assert.equal(new Set(Object.values(STATE_SYMBOL)).size, 6);
  });
});

describe('duration', () => {
  test('formats seconds, minutes and hours; refuses missing or reversed times', () => {
    assert.equal(duration('2025-01-01T00:00:00Z', '2025-01-01T00:00:09.600Z'), '10 s');
    assert.equal(duration('2025-01-01T00:00:00Z', '2025-01-01T00:59:59Z'), '59 min 59 s');
    assert.equal(duration('2025-01-01T00:00:00Z', '2025-01-01T02:03:00Z'), '2 h 3 min');
    assert.equal(duration('2025-01-01T00:00:00Z', undefined), undefined);
    assert.equal(duration('2025-01-01T00:01:00Z', '2025-01-01T00:00:00Z'), undefined);
    assert.equal(duration('not a date', '2025-01-01T00:00:00Z'), undefined);
  });
});

describe('changedLines and eraseLines', () => {
  test('changedLines keeps only new or changed lines, in order', () => {
    assert.deepEqual(changedLines(['a', 'b', 'c'], ['a', 'B', 'c', 'd']), ['B', 'd']);
    assert.deepEqual(changedLines([], ['x']), ['x']);
    assert.deepEqual(changedLines(['x'], ['x']), []);
  });

  test('eraseLines moves up and clears, or does nothing for zero lines', () => {
    assert.equal(eraseLines(3), '\x1b[3A\x1b[0J');
    assert.equal(eraseLines(0), '');
  });
});

describe('createProgressView', () => {
  test('on a terminal it redraws in place, wrapping long lines to its width and counting the rows', () => {
    const writes: string[] = [];
    const view = createProgressView({ write: (t) => writes.push(t), isTTY: true, columns: 40 });
    view.update(joining());
    assert.ok(!writes[0].includes('\x1b['), 'the first frame erases nothing');
    const rows = fitToWidth(renderProgress(joining()), 40).length;
    assert.ok(rows > renderProgress(joining()).length, 'some lines of the example are wider than 40 columns');
    for (const row of writes[0].split('\n')) assert.ok(visibleLength(row) <= 40, `fits 40 columns: ${row}`);
    view.notice('(no progress yet)');
    assert.ok(writes[1].startsWith(`\x1b[${rows}A\x1b[0J`), JSON.stringify(writes[1].slice(0, 12)));
    assert.ok(writes[1].endsWith('(no progress yet)\n'));
    view.update(joining());
    assert.ok(writes[2].startsWith(`\x1b[${rows + 1}A\x1b[0J`), 'the notice line is erased too');
    assert.ok(!writes[2].includes('(no progress yet)'), 'a new frame drops the notice');
    view.update(joining());
    assert.equal(writes.length, 3, 'an unchanged frame is not redrawn');
  });

  test('on a terminal that reports 0 columns it counts 80', () => {
    const writes: string[] = [];
    const view = createProgressView({ write: (t) => writes.push(t), isTTY: true, columns: 0 });
    view.update(joining());
    view.notice('x');
    assert.ok(writes[1].startsWith(`\x1b[${renderProgress(joining()).length}A`), JSON.stringify(writes[1].slice(0, 8)));
  });

  test('elsewhere it prints each changed line once, and a notice once', () => {
    let out = '';
    const view = createProgressView({ write: (t) => (out += t), isTTY: false });
    view.update(joining());
    const first = out;
    assert.ok(first.includes('join-control-plane/cp-2'), first);
    view.update(joining());
    assert.equal(out, first, 'an unchanged progress prints nothing');
    const next = joining();
    next.steps[2].hosts[0] = { ...next.steps[2].hosts[0], state: 'done', reason: 'Joined', message: undefined };
    view.update(next);
    assert.equal(out.slice(first.length), '      ✓ join-control-plane/cp-2  Joined\n');
    view.notice('(no progress yet: x)');
    view.notice('(no progress yet: x)');
    assert.equal(out.split('(no progress yet: x)').length, 2);
  });
});

describe('fitToWidth', () => {
  const failure =
    '  ✗ join-control-plane  Failed: step join-control-plane failed (Unreachable: connect ECONNREFUSED 10.0.1.12:22). Hint: start the host or its sshd, then send retry';

  test('wraps a long line at spaces under its text, dropping nothing, every row within the width', () => {
    const rows = fitToWidth([failure, '  ✓ verify'], 80);
    assert.ok(rows.length >= 3, rows.join('\n'));
    for (const row of rows) assert.ok(visibleLength(row) <= 80, `${visibleLength(row)}: ${row}`);
    assert.equal(rows[rows.length - 1], '  ✓ verify', 'short lines stay as they are');
    assert.match(rows[1], /^ {6}\S/, 'continuations are indented under the text');
    assert.equal(
      rows
        .slice(0, -1)
        .map((r) => r.trim())
        .join(' '),
      failure.trim(),
      'the words, in order, all there',
    );
  });

  test('colour escapes take no room, and a word wider than the room is split', () => {
    const coloured = `  \x1b[31m✗\x1b[0m ${'x'.repeat(10)} ${'y'.repeat(30)}`;
    assert.equal(visibleLength(coloured), 45);
    assert.deepEqual(fitToWidth([coloured], 45), [coloured]);
    const long = fitToWidth([`  ${'z'.repeat(100)}`], 40);
    for (const row of long) assert.ok(visibleLength(row) <= 40, row);
    assert.equal(long.map((r) => r.trim()).join(''), 'z'.repeat(100));
  });
});
