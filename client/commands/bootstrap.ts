/**
 * `kubeha bootstrap -f input.json`: validates the input locally, starts BootstrapStackedEtcd for the
 * cluster (one run per cluster at a time: the workflow id is `bootstrap-<clusterName>`), then follows it.
 */
import { readFileSync } from 'node:fs';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { inputIssues } from '../../common/validation';
import type { BootstrapStackedEtcd } from '../../workflows/BootstrapStackedEtcd';
import { CliError, connectClient, workflowUrl } from '../connection';
import { describeFailure } from '../describeFailure';
import { createProgressView, followWorkflow, type ViewOutput } from '../followProgress';

/** The workflow type name, as registered by the worker. */
export const BOOTSTRAP_WORKFLOW = 'BootstrapStackedEtcd';

/** Options of `kubeha bootstrap`. */
export interface BootstrapOptions {
  file: string;
  /** Workflow id; default `bootstrap-<clusterName>`. */
  id?: string;
  /** Follow the run until it ends (default true). */
  follow: boolean;
}

/** The default workflow id of a cluster's bootstrap: one open run per cluster. */
export function bootstrapWorkflowId(clusterName: string): string {
  return `bootstrap-${clusterName}`;
}

/**
 * Reads and validates the input file. Throws a {@link CliError} with exit code 2 listing every issue
 * as `path: message` when the file is unreadable, not JSON, or breaks the schema.
 */
export function readBootstrapInput(file: string): { raw: unknown; clusterName: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`, 2);
  }
  const parsed = bootstrapStackedEtcdInputSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = inputIssues(parsed.error).map((issue) => `  ${issue.path}: ${issue.message}`);
    throw new CliError(`${file} is not a valid BootstrapStackedEtcd input; nothing was started:\n${lines.join('\n')}`, 2);
  }
  return { raw, clusterName: parsed.data.clusterName };
}

/** Runs `kubeha bootstrap`. */
export async function bootstrapCommand(options: BootstrapOptions, out: ViewOutput = process.stdout): Promise<void> {
  // Validation first: a bad file never reaches Temporal.
  const { raw, clusterName } = readBootstrapInput(options.file);
  const workflowId = options.id ?? bootstrapWorkflowId(clusterName);
  const kubeha = await connectClient();
  try {
    const { client, settings } = kubeha;
    let handle;
    try {
      handle = await client.workflow.start<typeof BootstrapStackedEtcd>(BOOTSTRAP_WORKFLOW, {
        taskQueue: settings.taskQueue,
        workflowId,
        // The workflow validates again and applies the defaults itself: it receives what the operator wrote.
        args: [raw],
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.cluster, value: clusterName }],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new CliError(
          `a run with workflow id ${workflowId} is already open (one bootstrap per cluster at a time); nothing was started.\n` +
            `  follow it: kubeha status ${workflowId}\n  or open ${workflowUrl(settings, workflowId)}`,
        );
      }
      throw err;
    }
    out.write(`started ${BOOTSTRAP_WORKFLOW} for cluster ${clusterName}: workflow id ${workflowId}, run ${handle.firstExecutionRunId}\n`);
    out.write(`Web UI: ${workflowUrl(settings, workflowId)}\n`);
    if (!options.follow) {
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
      if (outcome.kind === 'failed') throw new CliError(`${BOOTSTRAP_WORKFLOW} ${workflowId} ${describeFailure(outcome.error).join('\n')}`);
      out.write(`${BOOTSTRAP_WORKFLOW} ${workflowId} completed:\n${JSON.stringify(outcome.result, null, 2)}\n`);
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  } finally {
    await kubeha.close();
  }
}
