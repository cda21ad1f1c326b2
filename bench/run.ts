/**
 * `npm run bench`: every benchmark that runs on this machine alone, one after another, each in its own
 * process, printing its figures. Benchmarks that need the lab (bench/lab*.js) run when the lab is up
 * (`kubeha lab up`) or are skipped with a line saying so. Figures, never pass/fail thresholds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const benches: Array<{ file: string; args: string[]; what: string }> = [
  { file: 'codec.js', args: [], what: 'payload codec overhead and worker throughput with the codec on/off' },
  { file: 'alertStorm.js', args: ['10000', '64', '10'], what: 'alert storm: 10,000 deliveries of one group' },
  { file: 'workerScale.js', args: ['20'], what: 'one worker, then two, driving 20 concurrent bootstraps (stub activities)' },
  { file: 'secretStores.js', args: ['200'], what: 'secret-store latency per backend (file, Kubernetes Secrets, Secrets Manager on moto)' },
  { file: 'webhookToShift.js', args: ['stub', '20'], what: 'webhook receipt to first traffic change (stub activities)' },
  { file: 'twoWorkerTakeover.js', args: ['1'], what: 'kill-to-resume with two workers on a shared store, over four crash points (lab)' },
  { file: 'linkMesh.js', args: ['3'], what: 'LinkMeshClusters on a west/east pair of API servers: wall time against the sum of its activities (lab linkerd)' },
  { file: 'labBootstrap.js', args: [], what: 'lab up, bootstrap wall time against the sum of its steps, lab memory' },
  { file: 'labRecovery.js', args: ['3'], what: "west's control-plane zone lost: RecoverControlPlane's time to serving, per step, and the rejoin (lab)" },
  { file: 'labBackup.js', args: ['3'], what: "west with 10,000 ConfigMaps: backupEtcdSnapshot's snapshot, upload and wall time; API latency during it (lab)" },
  { file: 'webhookToShift.js', args: ['lab', '10'], what: 'webhook receipt to first traffic change on the lab (west/east pair bootstrapped by kubeha)' },
];

let failed = 0;
for (const bench of benches) {
  const file = path.join(__dirname, bench.file);
  process.stdout.write(`\n=== ${bench.file}: ${bench.what}\n`);
  if (!existsSync(file)) {
    process.stdout.write('(not built)\n');
    continue;
  }
  const result = spawnSync(process.execPath, [file, ...bench.args], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed ? 1 : 0;
