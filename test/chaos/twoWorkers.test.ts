/**
 * kubeha as a service of several workers: two worker processes with different data directories poll
 * one task queue and keep their secrets and known host keys in one shared store, first Kubernetes
 * Secrets (a real kube-apiserver standing for the management cluster), then AWS Secrets Manager (moto).
 * A lab bootstrap runs; the worker that holds a control-plane join is SIGKILLed; the other takes the
 * join over and finishes the run with nothing done twice (the lab's records) and no secret missing.
 * The kill-to-resume time is printed (bench/twoWorkerTakeover.ts measures it over several points).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SecretsManagerClient, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { startTestApiServer, type TestApiServer } from '../support/apiserver';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type MotoServer } from '../support/moto';
import { openCampaign, type OpenCampaign } from './crash/campaign';
import { twoWorkerRun, type TwoWorkerRun } from './crash/twoWorkers';

let campaign: OpenCampaign;
let api: TestApiServer;
let moto: MotoServer;

before(async () => {
  campaign = await openCampaign('west');
  [api, moto] = await Promise.all([startTestApiServer(), startMoto()]);
  const ns = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeha' } });
  assert.equal(ns.status, 201);
});

after(async () => {
  await Promise.all([api?.stop(), moto?.stop()]);
  await campaign?.close();
});

function judge(run: TwoWorkerRun, store: string): void {
  process.stdout.write(`two workers (${store}): killed ${run.killed} holding ${run.held}; ${run.survivor} resumed after ${run.resumeMs} ms\n`);
  assert.equal(run.members, 3, 'cp-1, cp-2 and the spare are etcd members');
  assert.equal(run.records.inits, 1, 'kubeadm init ran once');
  assert.equal(run.records.duplicates, 0, `no init or join repeated: ${JSON.stringify(run.records.joins)}`);
  assert.deepEqual(run.records.problems, []);
}

describe('two workers on a shared secret store', { timeout: 30 * 60_000 }, () => {
  test("Kubernetes Secrets: a killed worker's join is finished by the other, nothing repeated", async () => {
    const run = await twoWorkerRun(
      campaign.context,
      'two-workers-kube',
      { KUBEHA_SECRET_STORE: 'kubernetes', KUBEHA_SECRET_STORE_KUBECONFIG: api.kubeconfigPath },
      'kubeadmJoin',
    );
    judge(run, 'kubernetes');
    const secrets = await api.request<{ items: Array<{ metadata: { annotations: Record<string, string> } }> }>('GET', '/api/v1/namespaces/kubeha/secrets');
    const names = secrets.body.items.map((s) => s.metadata.annotations['kubeha.io/secret-name']);
    assert.ok(
      names.some((n) => /admin-kubeconfig$/.test(n)),
      `the cluster's secrets are in the shared store: ${JSON.stringify(names)}`,
    );
  });

  test('AWS Secrets Manager: the same, on moto', async () => {
    const env = {
      KUBEHA_SECRET_STORE: 'aws-secrets-manager',
      AWS_REGION: MOTO_REGION,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      KUBEHA_SECRET_STORE_PREFIX: 'kubeha-two-workers/',
    };
    const run = await twoWorkerRun(campaign.context, 'two-workers-sm', env, 'kubeadmJoin');
    judge(run, 'aws-secrets-manager');
    const client = new SecretsManagerClient({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    const listed = await client.send(new ListSecretsCommand({ MaxResults: 100 }));
    const names = (listed.SecretList ?? []).map((s) => s.Name ?? '');
    assert.ok(
      names.some((n) => /^kubeha-two-workers\/.*admin-kubeconfig$/.test(n)),
      JSON.stringify(names),
    );
  });
});
