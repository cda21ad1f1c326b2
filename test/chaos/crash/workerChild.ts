/**
 * The worker a crash campaign kills: kubeha's worker in a process of its own, built from a workflow
 * bundle made once per campaign (KUBEHA_WORKFLOW_BUNDLE), so a replacement polls within seconds.
 *
 * KUBEHA_CRASH_WORLD selects the activities:
 * - unset: kubeha's real activities against the lab (as test/lab/e2e/workerProcess.ts);
 * - a file path: FailoverToEast's stub world (test/failover/fakeFailoverWorld.ts) whose state is
 *   loaded from that file and written back after every traffic shift, so it outlives a SIGKILL as a
 *   real cluster's TrafficSplit would; with KUBEHA_CRASH_ROUTE53 also kubeha's real Route 53 activities
 *   on the point's moto (dnsWorld.ts).
 *
 * The rest of the settings as workerProcess.ts: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * KUBEHA_TASK_QUEUE, KUBEHA_DATA_DIR, KUBEHA_WORKER_IDENTITY. Prints WORKER_RUNNING once it polls.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { FailoverActivities } from '../../../activities/failover/types';
import { withLiveness } from '../../../activities/activityContext';
import { dataDir } from '../../../lib/paths';
import { FakeFailoverWorld } from '../../failover/fakeFailoverWorld';
import { crashDnsActivities, type CrashRoute53 } from './dnsWorld';
import { runAsProcessEntry, runWorkerProcess, workerProcessActivities } from '../../lab/e2e/workerProcess';

/** The part of the failover stub world that a real cluster would keep across a worker crash. */
export interface StubWorldState {
  splits: [string, { west: number; east: number }][];
  events: string[];
  shiftRequests: number[];
  actions: [string, number][];
}

/** Reads the stub world's state file (an empty world when there is none yet). */
export function readStubWorld(file: string): StubWorldState {
  if (!existsSync(file)) return { splits: [], events: [], shiftRequests: [], actions: [] };
  return JSON.parse(readFileSync(file, 'utf8')) as StubWorldState;
}

/** A failover stub world loaded from `file` that saves itself after each shift. */
function persistentFailoverWorld(file: string): object {
  const world = new FakeFailoverWorld();
  const saved = readStubWorld(file);
  saved.splits.forEach(([k, v]) => world.splits.set(k, v));
  saved.events.forEach((e) => world.events.add(e));
  world.shiftRequests.push(...saved.shiftRequests);
  saved.actions.forEach(([k, v]) => world.actions.set(k, v));
  const save = () => {
    const state: StubWorldState = { splits: [...world.splits], events: [...world.events], shiftRequests: world.shiftRequests, actions: [...world.actions] };
    writeFileSync(`${file}.tmp`, JSON.stringify(state));
    renameSync(`${file}.tmp`, file);
  };
  const activities = world.allActivities() as FailoverActivities & Record<string, unknown>;
  const shift = activities.setSplitWeights;
  return {
    ...activities,
    setSplitWeights: async (input: Parameters<FailoverActivities['setSplitWeights']>[0]) => {
      try {
        return await shift(input);
      } finally {
        save();
      }
    },
  };
}

function activities(dir: string): object {
  const stubWorld = process.env.KUBEHA_CRASH_WORLD;
  if (!stubWorld) return workerProcessActivities(dir);
  // The DNS point: the stub world's splits, and kubeha's real Route 53 activities on moto.
  const route53 = process.env.KUBEHA_CRASH_ROUTE53;
  return { ...persistentFailoverWorld(stubWorld), ...(route53 ? withLiveness(crashDnsActivities(JSON.parse(route53) as CrashRoute53)) : {}) };
}

runAsProcessEntry(module, () => runWorkerProcess({ activities: activities(dataDir()), workflowBundle: process.env.KUBEHA_WORKFLOW_BUNDLE }));
