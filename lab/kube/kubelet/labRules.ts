/**
 * LAB EMULATION: the rules that stand in for what a container would do, for the images the lab
 * cannot run. By default a pod's containers start and pass their readiness probes; the lab's faults
 * write rules that break that, in `workload-rules.json` beside the lab's state.json, which every
 * host's kubelet reads:
 * - `cniCrash`: the containers of a CNI pod (one that mounts the host's /etc/cni/net.d) exit at once,
 *   so the pod crash-loops and writes no network configuration (`kubeha lab fault cni-break`);
 * - `neverReady`: workloads (`namespace/name`) whose containers run but never pass readiness.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The rules in force. */
export interface WorkloadRules {
  cniCrash: boolean;
  neverReady: string[];
}

const NONE: WorkloadRules = { cniCrash: false, neverReady: [] };

/** The rules file of the lab whose state.json is `stateFile`. */
export function workloadRulesFile(stateFile: string): string {
  return path.join(path.dirname(stateFile), 'workload-rules.json');
}

/** Reads the rules (none when the file is missing or unreadable). */
export function readWorkloadRules(file: string | undefined): WorkloadRules {
  if (!file || !existsSync(file)) return NONE;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<WorkloadRules>;
    return { cniCrash: parsed.cniCrash === true, neverReady: Array.isArray(parsed.neverReady) ? parsed.neverReady.filter((w) => typeof w === 'string') : [] };
  } catch {
    return NONE;
  }
}

/** Changes the rules (atomically: a kubelet never reads half a file). */
export function updateWorkloadRules(file: string, change: (rules: WorkloadRules) => WorkloadRules): WorkloadRules {
  const next = change(readWorkloadRules(file));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return next;
}
