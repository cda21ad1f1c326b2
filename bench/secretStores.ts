/**
 * Secret-store latency per backend: the file store, Kubernetes Secrets on a real kube-apiserver and AWS
 * Secrets Manager on moto (local peers: the figures show kubeha's overhead and the round trip to a
 * local server, not a cloud's). put, get, has and putIfAbsent of 1 KiB values: median and p99 in ms.
 * `node dist/bench/secretStores.js [operations]` after a build.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KubeClient } from '../activities/kubernetes/client';
import { parseKubeconfig } from '../activities/kubernetes/kubeconfig';
import { KubernetesSecretStore } from '../activities/secrets/kubernetesStore';
import { SecretsManagerSecretStore } from '../activities/secrets/secretsManagerStore';
import { FileSecretStore, type SecretStore } from '../activities/secrets/store';
import { startTestApiServer } from '../test/support/apiserver';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto } from '../test/support/moto';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(store: SecretStore, operations: number): Promise<Record<string, string>> {
  const value = 'x'.repeat(1024);
  const times: Record<string, number[]> = { put: [], get: [], has: [], putIfAbsent: [] };
  for (let i = 0; i < operations; i++) {
    const name = `bench/clusters/c${i % 20}/secret-${i}`;
    for (const [op, run] of [
      ['put', () => store.put(name, value)],
      ['get', () => store.get(name)],
      ['has', () => store.has(name)],
      ['putIfAbsent', () => store.putIfAbsent(`${name}-once`, value)],
    ] as const) {
      const start = performance.now();
      await run();
      times[op].push(performance.now() - start);
    }
  }
  return Object.fromEntries(
    Object.entries(times).map(([op, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return [op, `median ${quantile(sorted, 0.5).toFixed(2)} ms, p99 ${quantile(sorted, 0.99).toFixed(2)} ms`];
    }),
  );
}

async function main(): Promise<void> {
  const operations = Number(process.argv[2] ?? 200);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-bench-stores-'));
  const [api, moto] = await Promise.all([startTestApiServer(), startMoto()]);
  try {
    await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeha' } });
    const stores: Record<string, SecretStore> = {
      file: new FileSecretStore(path.join(dir, 'secrets')),
      kubernetes: new KubernetesSecretStore(new KubeClient(parseKubeconfig(api.kubeconfig), { requestTimeoutMs: 10_000 }), 'kubeha'),
      'aws-secrets-manager (moto)': new SecretsManagerSecretStore(
        new SecretsManagerClient({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS }),
      ),
    };
    console.log(`secret-store latency, ${operations} operations each of put / get / has / putIfAbsent (1 KiB):`);
    for (const [kind, store] of Object.entries(stores)) {
      const figures = await measure(store, operations);
      console.log(`  ${kind}`);
      for (const [op, text] of Object.entries(figures)) console.log(`    ${op.padEnd(12)} ${text}`);
    }
  } finally {
    await Promise.all([api.stop(), moto.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
