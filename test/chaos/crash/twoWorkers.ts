/**
 * The two-worker scenario: two worker processes with their own data directories on one task queue and
 * one shared secret store; a lab bootstrap; the worker holding an activity of the given type is
 * SIGKILLed and the other takes over. Used by test/chaos/twoWorkers.test.ts and bench/twoWorkerTakeover.ts.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { kubehaDataConverter } from '../../../lib/codec/dataConverter';
import { formatKeyList } from '../../../lib/codec/keyring';
import { pendingActivities } from '../../lab/e2e/labWorkerRun';
import { Arena, type CampaignContext } from './arena';
import { nextProgress } from './observe';
import { bootstrapRecords, type BootstrapRecords } from './records';

/** What one run of the scenario found. */
export interface TwoWorkerRun {
  killed: string;
  survivor: string;
  /** What the killed worker held, `type #attempt`. */
  held: string;
  /** From the kill to the survivor's first progress on the run. */
  resumeMs: number;
  members: number;
  records: BootstrapRecords;
}

/**
 * Runs the scenario on a fresh small lab: `storeEnv` configures the shared store (KUBEHA_SECRET_STORE and
 * its settings); the worker that holds an activity of type `killOn` first is killed.
 */
export async function twoWorkerRun(context: CampaignContext, name: string, storeEnv: NodeJS.ProcessEnv, killOn: string): Promise<TwoWorkerRun> {
  const arena = await Arena.open(context, name, 'small');
  try {
    // Same codec keys (configuration), separate data directories, one shared store.
    const keys = formatKeyList([kubehaDataConverter({ ...process.env, KUBEHA_DATA_DIR: arena.dataDir }).keyring.encryptKey]);
    const dirs = ['a', 'b'].map((n) => mkdtempSync(path.join(context.root, `${name}-worker-${n}-`)));
    const first = await arena.startWorker(undefined, { ...storeEnv, KUBEHA_CODEC_KEYS: keys, KUBEHA_DATA_DIR: dirs[0] });
    const second = await arena.startWorker(undefined, { ...storeEnv, KUBEHA_CODEC_KEYS: keys, KUBEHA_DATA_DIR: dirs[1] });
    const handle = await arena.start('BootstrapStackedEtcd', name, arena.bootstrapInput('fail'));
    let held: { worker: string; type: string; attempt: number } | undefined;
    for (const deadline = Date.now() + 10 * 60_000; !held;) {
      if (Date.now() > deadline) throw new Error(`no ${killOn} started within 10 minutes`);
      const { status, started } = await pendingActivities(handle);
      if (status !== 'RUNNING') throw new Error(`the run ended (${status}) before ${killOn} started`);
      held = started.find((a) => a.type === killOn);
      if (!held) await new Promise((r) => setTimeout(r, 100));
    }
    const survivor = held.worker === first.identity ? second.identity : first.identity;
    const killedAt = await arena.killWorker(held.worker);
    const resumeMs = await nextProgress(handle, killedAt, survivor);
    const result = (await handle.result()) as { etcd: { members: number } };
    return {
      killed: held.worker,
      survivor,
      held: `${held.type} #${held.attempt}`,
      resumeMs,
      members: result.etcd.members,
      records: await bootstrapRecords(arena.labUp),
    };
  } finally {
    await arena.close();
  }
}
