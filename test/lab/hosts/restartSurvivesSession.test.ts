/**
 * Certificate renewal restarts a control plane's static pods by parking their manifests, waiting, and
 * putting them back. On a lab host over kubeha's real SSH shell: when the worker's SSH connection dies
 * during the wait (as when the worker is killed), the manifests still come back on their own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { HostRunner } from '../../../activities/hosts/context';
import { PARKED_MANIFESTS, restartStaticPods, STATIC_PODS } from '../../../activities/rotation/certificates';
import { FileSecretStore } from '../../../activities/secrets/store';
import type { LabHost } from '../../../lab/hosts';
import { createTestLab, type TestLab } from './helpers';

let lab: TestLab;
let node: LabHost;
before(async () => {
  lab = await createTestLab('restart-pods');
  node = await lab.start('restart-cp', '127.0.10.243');
});
after(async () => {
  await lab.close();
});

const listing = async () => (await lab.sh(node, `ls /etc/kubernetes/manifests; echo --; ls ${PARKED_MANIFESTS} 2>/dev/null`)).stdout;

test('a lost SSH session during the wait never leaves the manifests parked', { timeout: 120_000 }, async () => {
  await lab.sh(node, `mkdir -p /etc/kubernetes/manifests && for f in ${STATIC_PODS.join(' ')}; do echo "kind: Pod" > /etc/kubernetes/manifests/$f; done`);
  assert.equal(await listing(), `${[...STATIC_PODS].sort().join('\n')}\n--\n`);
  const run = new HostRunner({ shell: lab.shell, secrets: new FileSecretStore(path.join(lab.labDir, 'secrets')) });
  const restart = restartStaticPods(run, lab.spec(node), 4);
  const outcome = restart.then(
    () => 'finished',
    (err: Error) => `failed: ${err.message}`,
  );
  // The worker dies while the pods are stopped: its SSH connection goes with it.
  for (let i = 0; i < 50 && !(await listing()).startsWith('--'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(await listing(), /^--\n/, 'the manifests are parked');
  await lab.shell.close();
  assert.match(await outcome, /^failed: /, 'the activity lost its session');
  await new Promise((r) => setTimeout(r, 5_000));
  assert.equal(await listing(), `${[...STATIC_PODS].sort().join('\n')}\n--\n`, 'every manifest is back, none left parked');
});
