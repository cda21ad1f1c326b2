/**
 * `kubeha bootstrap -f input.json`: validates the input locally, starts BootstrapStackedEtcd for the
 * cluster (one run per cluster at a time: the workflow id is `bootstrap-<clusterName>`), then follows it.
 */
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import type { ViewOutput } from '../followProgress';
import { readWorkflowInput } from '../inputFile';
import { startRun } from './startRun';

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
  const { raw, parsed } = readWorkflowInput(file, bootstrapStackedEtcdInputSchema, BOOTSTRAP_WORKFLOW);
  return { raw, clusterName: parsed.clusterName };
}

/** Runs `kubeha bootstrap`. */
export async function bootstrapCommand(options: BootstrapOptions, out: ViewOutput = process.stdout): Promise<void> {
  // Validation first: a bad file never reaches Temporal.
  const { raw, clusterName } = readBootstrapInput(options.file);
  const workflowId = options.id ?? bootstrapWorkflowId(clusterName);
  await startRun(
    { workflowType: BOOTSTRAP_WORKFLOW, workflowId, raw, cluster: clusterName, subject: `cluster ${clusterName}`, noun: 'bootstrap', follow: options.follow },
    out,
  );
}
