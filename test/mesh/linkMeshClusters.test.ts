/**
 * LinkMeshClusters' decisions on a real Temporal dev server with stub activities (FakeMeshWorld), from a
 * private bundle of this one workflow.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureInfo, failureType } from '../../common/errors';
import { MESH_STEPS } from '../../common/inputs/linkMeshClusters';
import type { Progress } from '../../common/progress';
import { startTestTemporal } from '../support/temporal';
import { eventually } from '../support/workflowHarness';
import type { LinkMeshResult } from '../../workflows/mesh';
import { FakeMeshWorld, permanentMeshFailure } from './fakeMeshWorld';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
const noop = () => undefined;
before(async () => {
  env = await startTestTemporal();
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows/mesh'),
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop },
  });
});
after(async () => {
  await env?.teardown();
});

function meshInput(overrides: Record<string, unknown> = {}) {
  return {
    west: { name: 'west', kubeconfig: { file: '/etc/kubeha/west.kubeconfig' }, context: 'west' },
    east: { name: 'east', kubeconfig: { file: '/etc/kubeha/east.kubeconfig' }, context: 'east' },
    services: [{ namespace: 'test', name: 'podinfo' }],
    trafficSplit: { kind: 'auto' },
    timeouts: { checkSeconds: 30, checkIntervalSeconds: 1 },
    onFailure: 'fail',
    ...overrides,
  };
}

/** The innermost message of a failure chain (workflow -> activity -> application failure). */
function innermost(err: unknown): string {
  let message = '';
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e.message) message = e.message;
  return message;
}

async function worker(world: FakeMeshWorld) {
  const taskQueue = `mesh-${randomUUID()}`;
  const w = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: bundle,
    activities: world.activities(),
    shutdownGraceTime: '1 second',
  });
  return { worker: w, taskQueue };
}

async function run(world: FakeMeshWorld, input: unknown): Promise<LinkMeshResult> {
  const { worker: w, taskQueue } = await worker(world);
  return w.runUntil(
    env.client.workflow.execute('LinkMeshClusters', { args: [input], taskQueue, workflowId: `mesh-${randomUUID()}` }) as Promise<LinkMeshResult>,
  );
}

const FULL_RUN = [
  'generate-trust',
  'crds:west',
  'crds:east',
  'control-plane:west',
  'control-plane:east',
  'multicluster:west',
  'multicluster:east',
  'link',
  'export:test/podinfo',
  'split:test/podinfo',
];

describe('LinkMeshClusters', { timeout: 180_000 }, () => {
  test('links east into west: trust, installs, check, link-gen with west running the mirror controller, mirrors, HTTPRoute split', async () => {
    const world = new FakeMeshWorld();
    const result = await run(world, meshInput());
    assert.deepEqual([...world.actions.keys()].sort(), [...FULL_RUN].sort());
    assert.deepEqual(world.repeated(), []);
    assert.equal(result.linkCommand, 'link-gen');
    assert.deepEqual(world.clusters.west.controllers, ['east']);
    assert.deepEqual(world.clusters.east.controllers, []);
    assert.equal(world.clusters.west.anchors, world.clusters.east.anchors);
    assert.notEqual(world.clusters.west.issuer, world.clusters.east.issuer, 'one issuer per cluster');
    assert.deepEqual(
      result.mirrors.map((m) => [m.mirror, m.pointsAtGateway]),
      [['test/podinfo-east', true]],
    );
    assert.equal(result.trafficSplit?.kind, 'httproute');
    assert.equal(result.pairName, 'west-east');
    const preflight = world.calls.indexOf('preflightMesh');
    assert.equal(preflight, 0, 'preflight runs before anything else');
  });

  test('an older CLI links with "multicluster link" and installs no controller on west', async () => {
    const world = new FakeMeshWorld();
    world.cliVersion = 'stable-2.14.10';
    const result = await run(world, meshInput());
    assert.equal(result.linkCommand, 'link');
    assert.deepEqual(world.clusters.west.controllers, []);
  });

  test('a second run is a no-op', async () => {
    const world = new FakeMeshWorld();
    await run(world, meshInput());
    const before = new Map(world.actions);
    world.newRun();
    const result = await run(world, meshInput());
    assert.deepEqual(world.actions, before);
    assert.deepEqual(world.repeated(), []);
    assert.equal(result.mirrors.length, 1);
  });

  test('check retries through workflow timers until healthy; warnings surface in the result', async () => {
    const world = new FakeMeshWorld();
    world.uncheckedRounds = 2;
    world.checkWarnings = ['issuer cert is valid for at least 60 days'];
    const result = await run(world, meshInput());
    assert.equal(world.calls.filter((c) => c === 'meshCheck:west').length, 3);
    assert.ok(
      result.warnings.some((w) => /west: issuer cert is valid for at least 60 days/.test(w)),
      JSON.stringify(result.warnings),
    );
  });

  test('check fails at its deadline with the failing checks named', async () => {
    const world = new FakeMeshWorld();
    world.uncheckedRounds = 1000;
    await assert.rejects(run(world, meshInput({ timeouts: { checkSeconds: 10, checkIntervalSeconds: 2 } })), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        err.cause?.message ?? '',
        /step check failed: VerificationFailed: not healthy after 10 s: west: control plane pods are ready \(No running pods/,
      );
      return true;
    });
    assert.equal(world.count('link'), 0);
  });

  test('the progress query reports every step with per-cluster conditions and facts', async () => {
    const world = new FakeMeshWorld();
    const { worker: w, taskQueue } = await worker(world);
    const progress = await w.runUntil(async () => {
      const handle = await env.client.workflow.start('LinkMeshClusters', { args: [meshInput()], taskQueue, workflowId: `mesh-progress-${randomUUID()}` });
      await handle.result();
      return handle.query<Progress>('progress');
    });
    assert.equal(progress.phase, 'succeeded');
    assert.deepEqual(
      progress.steps.map((s) => s.step),
      [...MESH_STEPS],
    );
    assert.ok(
      progress.steps.every((s) => s.state === 'done'),
      JSON.stringify(progress.steps.map((s) => [s.step, s.state, s.message])),
    );
    assert.deepEqual(
      progress.steps.find((s) => s.step === 'install-control-plane')?.hosts.map((h) => [h.host, h.state]),
      [
        ['west', 'done'],
        ['east', 'done'],
      ],
    );
    assert.equal(progress.facts['link command'], 'link-gen');
    assert.match(progress.facts['trust anchors'], /anchor-1/);
  });

  // One failure per step: the run holds, "retry" resumes there, nothing is repeated.
  const perStep: Array<[string, string, string | undefined]> = [
    ['trust', 'ensureTrust', undefined],
    ['install-crds', 'installLinkerdCrds', 'east'],
    ['install-control-plane', 'installControlPlane', 'west'],
    ['check', 'meshCheck', 'east'],
    ['multicluster-install', 'installMulticluster', 'west'],
    ['link', 'linkClusters', undefined],
    ['export', 'waitMirrors', undefined],
    ['traffic-split', 'ensureTrafficSplit', undefined],
  ];
  for (const [step, activity, cluster] of perStep) {
    test(`a failure in ${step} holds the run; "retry" resumes it there without repeating a side effect`, async () => {
      const world = new FakeMeshWorld();
      world.injections.push({ activity, cluster, error: permanentMeshFailure(`injected failure in ${activity}`) });
      const { worker: w, taskQueue } = await worker(world);
      await w.runUntil(async () => {
        const handle = await env.client.workflow.start('LinkMeshClusters', {
          args: [meshInput({ onFailure: 'wait' })],
          taskQueue,
          workflowId: `mesh-fail-${step}-${randomUUID()}`,
        });
        const held = await eventually(
          async () => {
            const p = await handle.query<Progress>('progress');
            return p.phase === 'waiting' ? p : undefined;
          },
          30_000,
          `${step} to hold`,
        );
        assert.equal(held.steps.find((s) => s.step === step)?.state, 'failed');
        assert.match(held.waitingFor ?? '', new RegExp(`step ${step} failed.*injected failure in ${activity}.*retry`));
        const later = held.steps.slice(MESH_STEPS.indexOf(step as (typeof MESH_STEPS)[number]) + 1);
        assert.ok(
          later.every((s) => s.state === 'pending'),
          'later steps did not start',
        );
        world.newRun(); // the retried step asks again for what it had done: idempotent, not a repeat
        await handle.signal('retry');
        await handle.result();
        assert.equal((await handle.query<Progress>('progress')).steps.find((s) => s.step === step)?.attempts, 2);
      });
      assert.deepEqual([...world.actions.keys()].sort(), [...FULL_RUN].sort());
      assert.deepEqual(world.repeated(), []);
    });
  }

  test('a new run after a failed one resumes: only what is missing is done', async () => {
    const world = new FakeMeshWorld();
    world.injections.push({ activity: 'linkClusters', error: permanentMeshFailure('east API unreachable') });
    await assert.rejects(run(world, meshInput()), (err: unknown) => /step link failed/.test((err as WorkflowFailedError).cause?.message ?? ''));
    assert.equal(world.count('link'), 0);
    world.newRun();
    await run(world, meshInput());
    assert.deepEqual([...world.actions.keys()].sort(), [...FULL_RUN].sort());
    assert.deepEqual(world.repeated(), []);
  });

  test('an unknown context fails before any change, naming the field', async () => {
    const world = new FakeMeshWorld();
    await assert.rejects(run(world, meshInput({ east: { name: 'east', kubeconfig: { file: '/k' }, context: 'gke-east' } })), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal(failureType(err.cause), 'InvalidInput');
      assert.match(innermost(err), /east\.context: context "gke-east" is not in the kubeconfig/);
      return true;
    });
    assert.equal(world.actions.size, 0);
  });

  test('clusters that already trust different anchors fail before any change', async () => {
    const world = new FakeMeshWorld();
    world.clusters.west.anchors = 'anchor-a';
    world.clusters.east.anchors = 'anchor-b';
    await assert.rejects(run(world, meshInput()), (err: unknown) => /east\.context: Linkerd on east trusts other anchors/.test(innermost(err)));
    assert.equal(world.actions.size, 0);
  });

  test('schema violations fail before any activity, naming every field', async () => {
    const world = new FakeMeshWorld();
    const bad = meshInput({ east: { name: 'east', kubeconfig: { file: 'relative/path' } }, trafficSplit: { kind: 'istio' } });
    await assert.rejects(run(world, bad), (err: unknown) => {
      const message = (err as WorkflowFailedError).cause?.message ?? '';
      assert.match(message, /east\.kubeconfig\.file: must be an absolute path/);
      assert.match(message, /trafficSplit\.kind/);
      assert.equal(failureInfo((err as WorkflowFailedError).cause)?.hint, 'fix the named fields and start again; nothing was changed');
      return true;
    });
    const clash = meshInput({
      east: { name: 'west', kubeconfig: { file: '/k' } },
      services: [
        { namespace: 'test', name: 'podinfo' },
        { namespace: 'test', name: 'podinfo' },
      ],
    });
    await assert.rejects(run(world, clash), (err: unknown) => {
      const message = (err as WorkflowFailedError).cause?.message ?? '';
      assert.match(message, /east\.name: must differ from west\.name/);
      assert.match(message, /services\[1\]: duplicates services\[0\] test\/podinfo/);
      return true;
    });
    assert.deepEqual(world.calls, []);
  });

  test('dry run changes nothing on the clusters', async () => {
    const world = new FakeMeshWorld();
    const result = await run(world, meshInput({ dryRun: true }));
    assert.equal(result.dryRun, true);
    assert.deepEqual([...world.actions.keys()], []);
    assert.ok(world.calls.includes('installLinkerdCrds:west'), 'the CRDs are checked by a server-side dry run');
  });
});
