/**
 * Kill-to-resume with two workers: the two-worker scenario (test/chaos/crash/twoWorkers.ts) on a fresh
 * lab per point, killing the worker that holds kubeadmInit, waitTargetHealthy, kubeadmJoin or
 * waitRollout; the other worker takes over. Prints each point and the median and p99 of the resume
 * times. Needs the lab's tools (as `npm test`); `node dist/bench/twoWorkerTakeover.js [rounds]`.
 */
import { startTestApiServer } from '../test/support/apiserver';
import { openCampaign } from '../test/chaos/crash/campaign';
import { twoWorkerRun } from '../test/chaos/crash/twoWorkers';

const POINTS = ['kubeadmInit', 'waitTargetHealthy', 'kubeadmJoin', 'waitRollout'];

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 1);
  const campaign = await openCampaign('west');
  const api = await startTestApiServer();
  try {
    await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeha' } });
    const store = { KUBEHA_SECRET_STORE: 'kubernetes', KUBEHA_SECRET_STORE_KUBECONFIG: api.kubeconfigPath };
    const times: number[] = [];
    console.log(`two workers, Kubernetes secret store: kill the holder of each activity, ${rounds} round(s)`);
    for (let round = 0; round < rounds; round++) {
      for (const point of POINTS) {
        const run = await twoWorkerRun(campaign.context, `takeover-${point}-${round}`.toLowerCase(), store, point);
        times.push(run.resumeMs);
        console.log(
          `  ${point.padEnd(18)} held ${run.held.padEnd(22)} resumed after ${(run.resumeMs / 1000).toFixed(1)} s; init ${run.records.inits}, duplicates ${run.records.duplicates}`,
        );
      }
    }
    const sorted = [...times].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    console.log(
      `  kill to resume: median ${(at(0.5) / 1000).toFixed(1)} s, p99 ${(at(0.99) / 1000).toFixed(1)} s over ${times.length} kills (heartbeat timeout 10 s + 2 s back-off)`,
    );
  } finally {
    await api.stop();
    await campaign.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
