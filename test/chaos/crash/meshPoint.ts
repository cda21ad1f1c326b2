/**
 * Crash points of LinkMeshClusters: the worker child (kubeha's real activities, the lab linkerd CLI)
 * SIGKILLed inside a run on a {@link MeshPair}, a replacement started, and the run must complete with
 * what one clean run leaves: one trust anchor in the secret store (the one stored before the kill, when
 * there was one) and the same one installed on west and east, one Link and one credentials Secret on
 * west, the mirror at east's gateway, the split object.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleFingerprints } from '../../../activities/mesh/pki';
import type { Progress } from '../../../common/progress';
import { LAB_LINKERD, MeshPair, type PairRole } from '../../lab/mesh/support/meshPair';
import { meshInput, pairProblems, pairRecords, storedAnchors } from '../../lab/mesh/support/meshRun';
import { Arena, type CampaignContext } from './arena';
import { describeTrigger, progressOf, waitForTrigger, type Trigger } from './observe';
import { killAndResume, outcome } from './pointKit';
import type { PointResult } from './runPoint';

/** When a mesh point kills the worker. */
export type MeshTrigger =
  /** kubeha's secret store holds the pair's anchor bundle (the anchor is made; nothing is installed yet). */
  | { kind: 'anchor-stored' }
  /** An object appears on a cluster of the pair. */
  | { kind: 'object'; role: PairRole; path: string; label: string }
  /** A progress or activity trigger of the campaign (observe.ts). */
  | { kind: 'run'; trigger: Trigger };

/** A crash point of LinkMeshClusters. */
export interface MeshPoint {
  name: string;
  kind: 'mesh';
  trigger: MeshTrigger;
}

export function describeMeshTrigger(t: MeshTrigger): string {
  if (t.kind === 'anchor-stored') return "the anchor is in kubeha's secret store";
  if (t.kind === 'object') return `${t.label} appears`;
  return describeTrigger(t.trigger);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A point's pair, arena and worker: the pair's servers and kubeconfig live in the arena's data directory. */
export interface MeshArena {
  arena: Arena;
  pair: MeshPair;
  close(): Promise<void>;
}

/** Opens an arena without a lab, starts a pair beside it, and a worker child that runs the lab linkerd. */
export async function openMeshArena(context: CampaignContext, name: string): Promise<MeshArena> {
  const arena = await Arena.open(context, name, 'none');
  arena.workerEnv = { LINKERD_PATH: LAB_LINKERD };
  let pair: MeshPair | undefined;
  const close = async () => {
    await arena.close().catch(() => undefined);
    await pair?.stop();
  };
  try {
    pair = await MeshPair.start(mkdtempSync(path.join(arena.dataDir, 'pair-')));
    await arena.startWorker();
    return { arena, pair, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Starts LinkMeshClusters on the pair. */
export function startLinkMesh(mesh: MeshArena, id: string): Promise<WorkflowHandle> {
  return mesh.arena.start('LinkMeshClusters', id, meshInput(mesh.pair));
}

/** Waits until `trigger` holds; fails when the run ends first. */
async function waitForMeshTrigger(handle: WorkflowHandle, mesh: MeshArena, trigger: MeshTrigger, timeoutMs = 10 * 60_000): Promise<string | undefined> {
  if (trigger.kind === 'run') return waitForTrigger(handle, undefined, trigger.trigger, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  let lastProgressAt = 0;
  for (;;) {
    if (trigger.kind === 'anchor-stored' && (await storedAnchors(mesh.arena.dataDir))) return undefined;
    if (trigger.kind === 'object' && (await mesh.pair.apis[trigger.role].request('GET', trigger.path)).status === 200) return undefined;
    if (Date.now() > deadline) throw new Error(`trigger "${describeMeshTrigger(trigger)}" never held within ${timeoutMs} ms`);
    if (Date.now() - lastProgressAt > 2000) {
      lastProgressAt = Date.now();
      const progress = await progressOf(handle);
      if (progress?.phase === 'succeeded' || progress?.phase === 'failed')
        throw new Error(`the run ended (${progress.phase}) before "${describeMeshTrigger(trigger)}"`);
    }
    await sleep(20);
  }
}

/** Runs one mesh point on a fresh pair: kill when the trigger holds, resume, judge from the pair and the store. */
export async function meshPoint(context: CampaignContext, point: MeshPoint, result: PointResult): Promise<void> {
  result.trigger = describeMeshTrigger(point.trigger);
  const mesh = await openMeshArena(context, point.name);
  try {
    const handle = await startLinkMesh(mesh, `crash-${point.name}`);
    const approximately = await waitForMeshTrigger(handle, mesh, point.trigger);
    if (approximately) result.notes.push(approximately);
    // Read as the kill comes: the anchor is stored once, before the issuers, and never replaced.
    const anchorsAtKill = await storedAnchors(mesh.arena.dataDir);
    await killAndResume(mesh.arena, handle, result);
    const before = anchorsAtKill ? await bundleFingerprints(anchorsAtKill) : undefined;
    result.notes.push(before ? `anchor at the kill ${before.map((f) => f.slice(0, 12)).join(',')}` : 'no anchor stored at the kill');
    await outcome(handle);
    result.completed = true;
    const progress = (await progressOf(handle)) as Progress | undefined;
    if (progress?.phase !== 'succeeded') result.problems.push(`progress phase ${progress?.phase}`);
    const retried = progress?.steps.filter((s) => s.attempts > 1).map((s) => `${s.step}×${s.attempts}`) ?? [];
    if (retried.length) result.notes.push(`steps retried: ${retried.join(', ')}`);
    await mesh.pair.nextPass();
    const problems = pairProblems(await pairRecords(mesh.pair, mesh.arena.dataDir), before);
    result.problems.push(...problems);
    result.duplicates = problems.filter((p) => /second anchor|anchors \(expected 1\)|Links on west|credentials Secrets/.test(p)).length;
  } catch (err) {
    const output = mesh.arena.workerOutput();
    if (output && !result.completed) result.notes.push(`worker output: ${output.slice(-600)}`);
    if (mesh.pair.lastError) result.notes.push(`stand-in loop: ${mesh.pair.lastError}`);
    throw err;
  } finally {
    await mesh.close();
  }
}
