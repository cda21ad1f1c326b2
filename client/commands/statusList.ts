/**
 * `kubeha status` without a workflow id: every kubeha run, by cluster, from Temporal's visibility (the
 * search attributes the workflows keep current: KubehaCluster, KubehaPhase, KubehaStep), so one screen
 * shows what kubeha does across clusters without a worker having to answer.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { connectClient } from '../connection';
import type { ViewOutput } from '../followProgress';

/** Options of the listing. */
export interface StatusListOptions {
  /** Only this cluster's runs. */
  cluster?: string;
  /** Only runs still open. */
  open?: boolean;
  /** At most this many runs (newest first). Default 50. */
  limit?: number;
  json?: boolean;
}

/** One line of the listing. */
export interface RunSummary {
  cluster: string;
  workflow: string;
  workflowId: string;
  status: string;
  phase: string;
  step: string;
  started: string;
  closed?: string;
}

/** The visibility query of the listing; values are quoted for Temporal's SQL-like syntax. */
export function listQuery(options: StatusListOptions): string {
  const parts = [
    options.cluster ? `${SEARCH_ATTRIBUTES.cluster.name} = '${options.cluster.replace(/'/g, "\\'")}'` : `${SEARCH_ATTRIBUTES.cluster.name} IS NOT NULL`,
  ];
  if (options.open) parts.push(`ExecutionStatus = 'Running'`);
  return parts.join(' AND ');
}

function summary(info: WorkflowExecutionInfo): RunSummary {
  const attributes = info.typedSearchAttributes;
  return {
    cluster: attributes.get(SEARCH_ATTRIBUTES.cluster) ?? '',
    workflow: info.type,
    workflowId: info.workflowId,
    status: info.status.name,
    phase: attributes.get(SEARCH_ATTRIBUTES.phase) ?? '',
    step: attributes.get(SEARCH_ATTRIBUTES.step) ?? '',
    started: info.startTime.toISOString(),
    closed: info.closeTime?.toISOString(),
  };
}

/** Lists the runs, grouped by cluster (clusters by name, runs newest first). */
export async function listRuns(options: StatusListOptions): Promise<RunSummary[]> {
  const kubeha = await connectClient();
  try {
    const runs: RunSummary[] = [];
    const limit = options.limit ?? 50;
    for await (const info of kubeha.client.workflow.list({ query: listQuery(options), pageSize: Math.min(limit, 100) })) {
      runs.push(summary(info));
      if (runs.length >= limit) break;
    }
    return runs.sort((a, b) => a.cluster.localeCompare(b.cluster) || b.started.localeCompare(a.started));
  } finally {
    await kubeha.close();
  }
}

/** The listing as a table that fits 80 columns: long values are cut with "…". */
export function formatRuns(runs: RunSummary[]): string[] {
  if (runs.length === 0) return ['no kubeha runs found'];
  const rows = runs.map((r) => [r.cluster, r.workflow, r.status.toLowerCase(), r.phase || '-', r.step || '-', r.started.slice(5, 16).replace('T', ' ')]);
  const header = ['CLUSTER', 'WORKFLOW', 'STATUS', 'PHASE', 'STEP', 'STARTED'];
  // 14+20+9+9+12+11 and five spaces: 80 columns at most.
  const caps = [14, 20, 9, 9, 12, 11];
  const cut = (value: string, cap: number) => (value.length > cap ? `${value.slice(0, cap - 1)}…` : value);
  const widths = header.map((h, i) => Math.min(caps[i], Math.max(h.length, ...rows.map((row) => row[i].length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => cut(c, widths[i]).padEnd(widths[i]))
      .join(' ')
      .trimEnd();
  return [line(header), ...rows.map(line), '', 'details: kubeha status <workflowId>; ids: kubeha status --json'];
}

/** Runs `kubeha status` without an id. */
export async function statusListCommand(options: StatusListOptions, out: ViewOutput = process.stdout): Promise<void> {
  const runs = await listRuns(options);
  out.write(options.json ? `${JSON.stringify(runs, null, 2)}\n` : `${formatRuns(runs).join('\n')}\n`);
}
