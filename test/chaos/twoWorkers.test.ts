/**
 * kubeha as a service of several workers: two worker processes with different data directories poll
 * one task queue and keep their secrets and known host keys in one Kubernetes secret store (a real
 * kube-apiserver standing for the management cluster). A lab bootstrap runs; the worker that holds a
 * control-plane join is SIGKILLed; the other takes the join over and finishes the run with nothing done
 * twice (the lab's records) and no secret missing. The kill-to-resume time is printed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { formatKeyList } from '../../lib/codec/keyring';
import { startTestApiServer, type TestApiServer } from '../support/apiserver';
import { pendingActivities } from '../lab/e2e/labWorkerRun';
import { Arena } from './crash/arena';
import { openCampaign, type OpenCampaign } from './crash/campaign';
import { nextProgress } from './crash/observe';
import { bootstrapRecords } from './crash/records';

let campaign: OpenCampaign;
let api: TestApiServer;
let arena: Arena;

before(async () => {
  campaign = await openCampaign('west');
  api = await startTestApiServer();
  const ns = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeha' } });
  assert.equal(ns.status, 201);
});

after(async () => {
  await arena?.close();
  await api?.stop();
  await campaign?.close();
});

describe('two workers on a shared secret store', { timeout: 20 * 60_000 }, () => {
  test('a killed worker\'s join is finished by the other: no duplicate, no missing secret', async () => {
    arena = await Arena.open(campaign.context, 'two-workers', 'small');
    // Same codec keys (they are configuration), separate data directories, one shared store.
    const keys = formatKeyList([kubehaDataConverter({ ...process.env, KUBEHA_DATA_DIR: arena.dataDir }).keyring.encryptKey]);
    const shared = { KUBEHA_SECRET_STORE: 'kubernetes', KUBEHA_SECRET_STORE_KUBECONFIG: api.kubeconfigPath, KUBEHA_CODEC_KEYS: keys };
    const dirs = ['a', 'b'].map((n) => mkdtempSync(path.join(campaign.context.root, `worker-${n}-`)));
    const first = await arena.startWorker(undefined, { ...shared, KUBEHA_DATA_DIR: dirs[0] });
    const second = await arena.startWorker(undefined, { ...shared, KUBEHA_DATA_DIR: dirs[1] });

    const handle = await arena.start('BootstrapStackedEtcd', 'two-workers', arena.bootstrapInput('fail'));
    // Wait for a control-plane join, and see which worker holds it.
    let holder: string | undefined;
    for (const deadline = Date.now() + 10 * 60_000; !holder; ) {
      assert.ok(Date.now() < deadline, 'no kubeadmJoin started within 10 minutes');
      const { status, started } = await pendingActivities(handle);
      assert.equal(status, 'RUNNING');
      holder = started.find((a) => a.type === 'kubeadmJoin')?.worker;
      if (!holder) await new Promise((r) => setTimeout(r, 200));
    }
    const survivor = holder === first.identity ? second.identity : first.identity;
    const killedAt = await arena.killWorker(holder);
    const resumeMs = await nextProgress(handle, killedAt, survivor);
    process.stdout.write(`two workers: killed ${holder} mid-join; ${survivor} resumed after ${resumeMs} ms\n`);

    const result = (await handle.result()) as { etcd: { members: number } };
    assert.equal(result.etcd.members, 3, 'cp-1, cp-2 and the spare are etcd members');
    const records = await bootstrapRecords(arena.labUp);
    assert.equal(records.inits, 1, 'kubeadm init ran once');
    assert.equal(records.duplicates, 0, `no init or join repeated: ${JSON.stringify(records.joins)}`);
    assert.deepEqual(records.problems, []);
    // The stored secrets are in the shared store, not in either worker's directory.
    const secrets = await api.request<{ items: Array<{ metadata: { annotations: Record<string, string> } }> }>('GET', '/api/v1/namespaces/kubeha/secrets');
    const names = secrets.body.items.map((s) => s.metadata.annotations['kubeha.io/secret-name']);
    assert.ok(names.some((n) => /admin-kubeconfig$/.test(n)), JSON.stringify(names));
  });
});
