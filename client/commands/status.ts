/**
 * `kubeha status <workflowId>`: what Temporal knows of a run (status, times) and, when a worker answers
 * the `progress` query, its step list. Works on closed runs too: a worker answers queries on them.
 */
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { PROGRESS_QUERY, type Progress } from '../../common/progress';
import { CliError, connectClient, workflowUrl } from '../connection';
import { describeFailure } from '../describeFailure';
import { queryProblem, type ViewOutput } from '../followProgress';
import { renderProgress } from '../renderProgress';

/** Options of `kubeha status`. */
export interface StatusOptions {
  json: boolean;
  /** How long the progress query may wait for a worker. Default 5 s. */
  queryTimeoutSeconds: number;
}

/** What `kubeha status --json` prints. */
export interface StatusReport {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  taskQueue: string;
  startTime: string;
  closeTime?: string;
  historyLength: number;
  url: string;
  /** The progress query's answer; null when no worker answered. */
  progress: Progress | null;
  /** Why there is no progress, when there is none. */
  progressError?: string;
  /** For a closed run: its result or its failure's lines. */
  result?: unknown;
  failure?: string[];
}

/** Runs `kubeha status`. */
export async function statusCommand(workflowId: string, options: StatusOptions, out: ViewOutput = process.stdout): Promise<void> {
  const kubeha = await connectClient();
  try {
    const { client, settings } = kubeha;
    const handle = client.workflow.getHandle(workflowId);
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new CliError(
          `no workflow with id ${workflowId} in namespace ${settings.namespace} at ${settings.address}; list runs in the Web UI: ${settings.uiUrl}`,
        );
      }
      throw err;
    }
    const report: StatusReport = {
      workflowId,
      runId: description.runId,
      type: description.type,
      status: description.status.name,
      taskQueue: description.taskQueue,
      startTime: description.startTime.toISOString(),
      closeTime: description.closeTime?.toISOString(),
      historyLength: description.historyLength,
      url: workflowUrl(settings, workflowId),
      progress: null,
    };
    const timeoutMs = options.queryTimeoutSeconds * 1000;
    try {
      report.progress = await client.connection.withDeadline(Date.now() + timeoutMs, () => handle.query<Progress>(PROGRESS_QUERY));
    } catch (err) {
      report.progressError = queryProblem(err, timeoutMs);
    }
    if (description.status.name !== 'RUNNING' && description.status.name !== 'CONTINUED_AS_NEW') {
      try {
        report.result = await client.connection.withDeadline(Date.now() + timeoutMs, () => handle.result());
      } catch (err) {
        report.failure = describeFailure(err);
      }
    }
    out.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report).join('\n')}\n`);
  } finally {
    await kubeha.close();
  }
}

/** The report as text lines. */
export function formatReport(report: StatusReport): string[] {
  const lines = [
    `${report.type} ${report.workflowId} (run ${report.runId}): ${report.status}`,
    `  started ${report.startTime}${report.closeTime ? `, closed ${report.closeTime}` : ''}; ${report.historyLength} history events; task queue ${report.taskQueue}`,
    `  Web UI: ${report.url}`,
  ];
  if (report.progress) lines.push(...renderProgress(report.progress));
  else lines.push(`  progress: unavailable (${report.progressError ?? 'no answer'})`);
  if (report.failure) lines.push(...report.failure);
  else if (report.result !== undefined) lines.push(`result: ${JSON.stringify(report.result, null, 2)}`);
  return lines;
}
