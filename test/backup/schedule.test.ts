/**
 * The backup's Temporal Schedule on a real dev server: spec and policies, create-then-update, a bad
 * input refused with its fields named, and a triggered run backing up with a stable backup id. Also
 * the CLI's input file reading and list table.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ensureBackupSchedule, scheduledBackupInput } from '../../activities/backup/schedule';
import type { BackupRecord } from '../../activities/backup/types';
import { backupInputFromFile } from '../../client/commands/backup';
import { formatBackups } from '../../client/commands/backupFormat';
import { CliError } from '../../client/connection';
import { formatSchedules, listKubehaSchedules, scheduleAction, scheduleIdOf } from '../../client/schedule';
import { BACKUP_ID } from '../../common/inputs/backupEtcd';
import { failureType } from '../../common/errors';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import { backupBundle, input, StubStore } from './harness';

let env: TestWorkflowEnvironment;
let dir: string;
before(async () => {
  env = await startTestTemporal();
  dir = mkdtempSync(path.join(tmpdir(), 'kubeha-backup-schedule-'));
});
after(async () => {
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

const MINUTE = 60_000;

describe('backup schedule', { timeout: 120_000 }, () => {
  test('is created with the interval, overlap SKIP and keep; a second create updates it and keeps it paused', async () => {
    const first = await ensureBackupSchedule(env.client, {
      clusterName: 'alpha',
      schedule: { every: '1h' },
      workflowInput: input({ clusterName: 'alpha', keep: 24 }),
      taskQueue: 'kubeha-test',
    });
    assert.deepEqual(first, { scheduleId: 'backup-etcd-alpha', created: true });
    const handle = env.client.schedule.getHandle(first.scheduleId);
    let d = await handle.describe();
    assert.equal(d.spec.intervals?.[0].every, 60 * MINUTE);
    assert.equal(d.policies.overlap, 'SKIP');
    assert.equal(d.action.type, 'startWorkflow');
    assert.equal(d.action.workflowType, 'BackupEtcd');
    const args = d.action.args?.[0] as { keep: number; onFailure: string };
    assert.equal(args.keep, 24);
    assert.equal(args.onFailure, 'fail', 'a scheduled run never holds on a failed step');
    await handle.pause('maintenance');
    const second = await ensureBackupSchedule(env.client, {
      clusterName: 'alpha',
      schedule: { every: '30m' },
      workflowInput: input({ clusterName: 'alpha', keep: 48 }),
      taskQueue: 'kubeha-test',
    });
    assert.equal(second.created, false);
    d = await handle.describe();
    assert.equal(d.spec.intervals?.[0].every, 30 * MINUTE);
    assert.equal(d.state.paused, true);
    assert.equal((await scheduledBackupInput(env.client, 'alpha'))?.keep, 48);
    await handle.delete();
    assert.equal(await scheduledBackupInput(env.client, 'alpha'), undefined);
  });

  test('kubeha schedule list shows backup schedules beside the rotations; --cluster NAME --backup addresses one', async () => {
    const created = await ensureBackupSchedule(env.client, {
      clusterName: 'beta',
      schedule: { every: '1h' },
      workflowInput: input({ clusterName: 'beta', keep: 3 }),
      taskQueue: 'kubeha-test',
    });
    const id = scheduleIdOf({ cluster: 'beta', backup: true });
    assert.equal(id, created.scheduleId);
    assert.equal(scheduleIdOf({ cluster: 'beta' }), 'rotate-certificate-key-beta', 'without --backup: the rotation schedule');
    const listed = await eventually(async () => (await listKubehaSchedules(env.client)).find((s) => s.scheduleId === id), 20_000, 'the backup schedule listed');
    await scheduleAction(env.client, 'pause', id, 'restore drill');
    const text = formatSchedules([listed], new Map([[id, { lastStatus: 'FAILED', lastWorkflowId: 'backup-etcd-beta-run', failedRecent: 2, recent: 3 }]]));
    assert.match(text, /^backup-etcd-beta {2}active {2}every 60m/);
    assert.match(text, /! 2 of the last 3 backups failed, the last one too: kubeha status backup-etcd-beta-run/);
    assert.equal((await env.client.schedule.getHandle(id).describe()).state.paused, true);
    await scheduleAction(env.client, 'delete', id);
  });

  test('bad settings and inputs are refused with the fields named', async () => {
    await assert.rejects(
      ensureBackupSchedule(env.client, { clusterName: 'beta', schedule: { every: '1m' }, workflowInput: input({ clusterName: 'beta' }), taskQueue: 'q' }),
      (err: Error) => failureType(err) === 'InvalidInput' && /every: must be at least 5m/.test(err.message),
    );
    await assert.rejects(
      ensureBackupSchedule(env.client, { clusterName: 'beta', schedule: {}, workflowInput: input({ clusterName: 'gamma' }), taskQueue: 'q' }),
      /workflowInput.clusterName: is "gamma"/,
    );
    await assert.rejects(
      ensureBackupSchedule(env.client, { clusterName: 'beta', schedule: {}, workflowInput: { ...input({ clusterName: 'beta' }), keep: -1 }, taskQueue: 'q' }),
      /keep/,
    );
  });

  test('a triggered run backs the cluster up under an id from its scheduled time', async () => {
    const stub = new StubStore();
    const taskQueue = `backup-schedule-${process.pid}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await backupBundle(), activities: stub.activities() });
    await worker.runUntil(async () => {
      const { scheduleId } = await ensureBackupSchedule(env.client, {
        clusterName: 'delta',
        schedule: { every: '1h' },
        workflowInput: input({ clusterName: 'delta' }),
        taskQueue,
      });
      const handle = env.client.schedule.getHandle(scheduleId);
      await handle.trigger();
      const record = await eventually(async () => [...stub.stored.values()][0], 30_000, 'a stored backup');
      assert.match(record.backupId, BACKUP_ID);
      const runs = (await handle.describe()).info.recentActions;
      assert.ok(runs[0].action.workflow.workflowId.startsWith('backup-etcd-delta-'), runs[0].action.workflow.workflowId);
      await env.client.workflow.getHandle(runs[0].action.workflow.workflowId).result();
      await handle.delete();
    });
  });

  test('the CLI reads a BackupEtcd input file for the named cluster only, and prints the list as a table', () => {
    const file = path.join(dir, 'backup.json');
    writeFileSync(file, JSON.stringify(input()));
    assert.equal(backupInputFromFile(file, 'west').clusterName, 'west');
    assert.throws(
      () => backupInputFromFile(file, 'east'),
      (err: Error) => err instanceof CliError && /for cluster "west"/.test(err.message),
    );
    writeFileSync(file, JSON.stringify({ ...input(), store: { bucket: 'x' } }));
    assert.throws(() => backupInputFromFile(file, 'west'), /store\.bucket[\s\S]*store\.region/);
    const record = {
      backupId: '20261205T200000Z-0000aaaa',
      createdAt: '2026-12-05T20:00:03.000Z',
      revision: 812,
      bytes: 13205536,
      totalKeys: 700,
      host: 'cp-1',
    } as BackupRecord;
    const table = formatBackups([record]);
    assert.match(
      table,
      /^BACKUP\s+CREATED\s+REVISION\s+SIZE\s+KEYS\s+HOST\n20261205T200000Z-0000aaaa\s+2026-12-05T20:00:03.000Z\s+812\s+12.6 MiB\s+700\s+cp-1\n$/,
    );
    assert.equal(formatBackups([]), 'no backups\n');
  });
});
