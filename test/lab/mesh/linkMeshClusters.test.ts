/**
 * LinkMeshClusters end to end with kubeha's real activities (a worker child process with the file
 * secret store and the lab linkerd CLI) on a real Temporal dev server and a west/east pair of real
 * kube-apiservers (test/lab/mesh/support/meshPair.ts: the stand-in controllers and the lab service
 * mirror). Every step runs; `kubeha check mesh` finds the pair healthy; the mirror, the Link and the
 * split are read from the API servers. A second run with the same input is a no-op: no object kubeha
 * manages changes resourceVersion, and the secret store is unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMeshActivities } from '../../../activities/mesh';
import { LinkerdCli } from '../../../activities/mesh/linkerdCli';
import { checkMesh } from '../../../client/checkMesh';
import { MESH_STEPS } from '../../../common/inputs/linkMeshClusters';
import type { Progress } from '../../../common/progress';
import type { LinkMeshResult } from '../../../workflows/mesh';
import { openCampaign, type OpenCampaign } from '../../chaos/crash/campaign';
import { openMeshArena, startLinkMesh, type MeshArena } from '../../chaos/crash/meshPoint';
import { outcome } from '../../chaos/crash/pointKit';
import { DEMO, GATEWAY_IPS, LAB_LINKERD } from './support/meshPair';
import { pairProblems, pairRecords, resourceVersions, storeSnapshot } from './support/meshRun';

let campaign: OpenCampaign;
let mesh: MeshArena;

before(async () => {
  campaign = await openCampaign('west');
  mesh = await openMeshArena(campaign.context, 'mesh-e2e');
});
after(async () => {
  await mesh?.close();
  await campaign?.close();
});

describe('LinkMeshClusters on a pair of real API servers', { timeout: 15 * 60_000 }, () => {
  test('every step runs; kubeha check mesh is healthy; one anchor on both, one Link, the mirror at the gateway, the split', async () => {
    const started = Date.now();
    const handle = await startLinkMesh(mesh, 'mesh-e2e');
    const result = await outcome<LinkMeshResult>(handle, 10 * 60_000);
    process.stdout.write(`# LinkMeshClusters on the pair: ${Date.now() - started} ms\n`);
    const progress = await handle.query<Progress>('progress');
    assert.equal(progress.phase, 'succeeded');
    assert.deepEqual(
      progress.steps.map((s) => `${s.step}:${s.state}`),
      MESH_STEPS.map((s) => `${s}:done`),
    );
    assert.equal(result.linkCommand, 'link-gen');

    await mesh.pair.nextPass();
    const records = await pairRecords(mesh.pair, mesh.arena.dataDir);
    assert.deepEqual(pairProblems(records), []);
    assert.equal(records.storeAnchorCount, 1);
    assert.deepEqual(records.installedAnchors.west, records.storeAnchorFingerprints);
    assert.deepEqual(records.installedAnchors.east, records.storeAnchorFingerprints);
    assert.deepEqual(records.mirror, { cluster: 'east', addresses: [GATEWAY_IPS.east], ports: [4143] });
    assert.equal(records.routes.length, 1);

    const check = await checkMesh({ west: 'west', east: 'east', kubeconfig: mesh.pair.kubeconfigPath }, (store) =>
      createMeshActivities({ secrets: store, cli: new LinkerdCli(store, LAB_LINKERD, 60_000) }),
    );
    const notOk = check.reports.flatMap((r) => r.checks.filter((c) => c.status === 'error').map((c) => `${r.cluster}: ${c.description} (${c.error})`));
    assert.deepEqual(notOk, []);
    assert.equal(check.healthy, true);
    const mirrorCheck = check.reports
      .flatMap((r) => r.checks)
      .find((c) => c.description === `mirror ${DEMO.namespace}/${DEMO.name}-east points at east's gateway`);
    assert.equal(mirrorCheck?.status, 'ok');
  });

  test('a second run with the same input changes nothing on either API server nor in the secret store', async () => {
    await mesh.pair.nextPass();
    const versionsBefore = await resourceVersions(mesh.pair);
    const storeBefore = await storeSnapshot(mesh.arena.dataDir);
    assert.ok(versionsBefore.size > 50, `kubeha's objects were listed (${versionsBefore.size})`);
    for (const key of [
      'west /apis/multicluster.linkerd.io/v1alpha3/links linkerd-multicluster/east',
      'west /api/v1/secrets linkerd-multicluster/cluster-credentials-east',
      `west /api/v1/services ${DEMO.namespace}/${DEMO.name}-east`,
      `west /apis/policy.linkerd.io/v1beta3/httproutes ${DEMO.namespace}/${DEMO.name}`,
      `east /api/v1/services ${DEMO.namespace}/${DEMO.name}`,
      'east /api/v1/configmaps linkerd/linkerd-identity-trust-roots',
      'west /api/v1/secrets linkerd/linkerd-identity-issuer',
    ])
      assert.ok(versionsBefore.has(key), `${key} is among the objects compared`);
    assert.equal(Object.keys(storeBefore).length, 6, 'anchor, its key, and an issuer and key per cluster');

    const started = Date.now();
    const handle = await startLinkMesh(mesh, 'mesh-e2e-again');
    await outcome<LinkMeshResult>(handle, 10 * 60_000);
    process.stdout.write(`# second LinkMeshClusters run: ${Date.now() - started} ms\n`);
    await mesh.pair.nextPass();

    const versionsAfter = await resourceVersions(mesh.pair);
    const changed = [...versionsAfter]
      .filter(([key, rv]) => versionsBefore.get(key) !== rv)
      .map(([key, rv]) => `${key}: ${versionsBefore.get(key) ?? 'new'} → ${rv}`);
    const removed = [...versionsBefore.keys()].filter((key) => !versionsAfter.has(key));
    assert.deepEqual(changed, [], 'no object was created or changed');
    assert.deepEqual(removed, [], 'no object was removed');
    assert.deepEqual(await storeSnapshot(mesh.arena.dataDir), storeBefore);
  });
});
