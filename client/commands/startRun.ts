/**
 * What every `kubeha <verb> -f input.json` does once its input passed the schema: start the workflow
 * under its one-per-subject id, print the Web UI link, then follow its conditions live until it ends
 * (or return at once with `--detach`).
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { CliError, connectClient, workflowUrl } from '../connection';
import { describeFailure } from '../describeFailure';
import { createProgressView, followWorkflow, type ViewOutput } from '../followProgress';

/** One run to start. */
export interface StartRunRequest {
  /** The workflow type, as the worker registers it. */
  workflowType: string;
  /** The run's id: one open run per subject (cluster, pair). */
  workflowId: string;
  /** The input as the operator wrote it: the workflow validates again and applies the defaults itself. */
  raw: unknown;
  /** The cluster the run is listed under (search attribute KubehaCluster) until the workflow sets it. */
  cluster: string;
  /** What the run acts on, for messages: "cluster west", "pair west → east". Its first word is what one run is per. */
  subject: string;
  /** The operation in words, for messages: "bootstrap", "link", "rotation", "failover". */
  noun: string;
  /** Follow the run until it ends (default); false returns once it is started. */
  follow: boolean;
}

/** Starts the run and, unless detached, follows it. Exit codes: 0 done, 1 failed, 2 bad input (raised earlier). */
export async function startRun(request: StartRunRequest, out: ViewOutput = process.stdout): Promise<void> {
  const kubeha = await connectClient();
  try {
    const { client, settings } = kubeha;
    const { workflowType, workflowId } = request;
    let handle;
    try {
      handle = await client.workflow.start(workflowType, {
        taskQueue: settings.taskQueue,
        workflowId,
        args: [request.raw],
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.cluster, value: request.cluster }],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new CliError(
          `a run with workflow id ${workflowId} is already open (one ${request.noun} per ${request.subject.split(' ')[0]} at a time); nothing was started.\n` +
            `  follow it: kubeha status ${workflowId}\n  or open ${workflowUrl(settings, workflowId)}`,
        );
      }
      throw err;
    }
    out.write(`started ${workflowType} for ${request.subject}: workflow id ${workflowId}, run ${handle.firstExecutionRunId}\n`);
    out.write(`Web UI: ${workflowUrl(settings, workflowId)}\n`);
    if (!request.follow) {
      out.write(`follow it with: kubeha status ${workflowId}\n`);
      return;
    }
    const stop = new AbortController();
    const onInterrupt = (): void => stop.abort();
    process.once('SIGINT', onInterrupt);
    try {
      const view = createProgressView(out, { color: Boolean(out.isTTY) && !process.env.NO_COLOR });
      const outcome = await followWorkflow(handle, view, { signal: stop.signal });
      if (outcome.kind === 'stopped') {
        out.write(`stopped following; the workflow goes on: kubeha status ${workflowId}\n`);
        return;
      }
      if (outcome.kind === 'failed') throw new CliError(`${workflowType} ${workflowId} ${describeFailure(outcome.error).join('\n')}`);
      out.write(`${workflowType} ${workflowId} completed:\n${JSON.stringify(outcome.result, null, 2)}\n`);
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  } finally {
    await kubeha.close();
  }
}
