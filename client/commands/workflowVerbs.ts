/**
 * The verbs that start a workflow from an input file, each in `kubeha bootstrap`'s pattern: validate the
 * file (every bad field listed, exit code 2), start the run under its one-per-subject id, print the Web UI
 * link, follow its conditions live (`--detach` returns at once). Exit code 1 when the run fails.
 */
import type { Command } from 'commander';
import { failoverToEastInputSchema, failoverWorkflowId } from '../../common/inputs/failoverToEast';
import { linkMeshClustersInputSchema, pairNameOf } from '../../common/inputs/linkMeshClusters';
import { recoverControlPlaneInputSchema, recoverWorkflowId } from '../../common/inputs/recoverControlPlane';
import { rotateCertificateKeyInputSchema } from '../../common/inputs/rotateCertificateKey';
import type { ViewOutput } from '../followProgress';
import { readWorkflowInput } from '../inputFile';
import { stepsHelp } from '../stepDocs';
import { startRun, type StartRunRequest } from './startRun';

/** Options every starting verb takes. */
export interface StartVerbOptions {
  file: string;
  /** Workflow id instead of the verb's default. */
  id?: string;
  /** Return once the run is started. */
  detach?: boolean;
  /** commander's `--no-follow`, kept for `kubeha bootstrap`'s users. */
  follow?: boolean;
}

/** A verb: its workflow, and how a valid input names the run. */
export interface StartVerb {
  name: string;
  workflowType: string;
  description: string;
  example: string;
  /** Validates the file and says which run it is. */
  describeRun(file: string): Omit<StartRunRequest, 'follow'>;
}

/** `kubeha link -f`: LinkMeshClusters for a pair; one run per pair (`link-<pairName>`). */
export const linkVerb: StartVerb = {
  name: 'link',
  workflowType: 'LinkMeshClusters',
  description: 'validate an input file, start LinkMeshClusters for a west/east pair and follow it',
  example: 'examples/link-mesh-clusters.json',
  describeRun(file) {
    const { raw, parsed } = readWorkflowInput(file, linkMeshClustersInputSchema, this.workflowType);
    const pair = pairNameOf(parsed);
    return {
      workflowType: this.workflowType,
      workflowId: `link-${pair}`,
      raw,
      cluster: parsed.west.name,
      subject: `pair ${parsed.west.name} → ${parsed.east.name}`,
      noun: 'link',
    };
  },
};

/** `kubeha rotate -f`: one RotateCertificateKey run now, outside the schedule; one per cluster (`rotate-<cluster>`). */
export const rotateVerb: StartVerb = {
  name: 'rotate',
  workflowType: 'RotateCertificateKey',
  description: 'validate an input file, rotate the certificate key of a cluster now and follow it',
  example: 'examples/rotate-certificate-key.json',
  describeRun(file) {
    const { raw, parsed } = readWorkflowInput(file, rotateCertificateKeyInputSchema, this.workflowType);
    return {
      workflowType: this.workflowType,
      workflowId: `rotate-${parsed.clusterName}`,
      raw,
      cluster: parsed.clusterName,
      subject: `cluster ${parsed.clusterName}`,
      noun: 'rotation',
    };
  },
};

/**
 * `kubeha recover -f`: RecoverControlPlane for a cluster that lost etcd quorum; one run per cluster
 * (`recover-control-plane-<cluster>`), so a second start finds the first. Answer its approval with
 * `kubeha signal <id> approve|reject`.
 */
export const recoverVerb: StartVerb = {
  name: 'recover',
  workflowType: 'RecoverControlPlane',
  description: 'validate an input file, start RecoverControlPlane for a cluster whose etcd lost quorum and follow it',
  example: 'examples/recover-control-plane.json',
  describeRun(file) {
    const { raw, parsed } = readWorkflowInput(file, recoverControlPlaneInputSchema, this.workflowType);
    const cluster = parsed.cluster.clusterName;
    return {
      workflowType: this.workflowType,
      workflowId: recoverWorkflowId(cluster),
      raw,
      cluster,
      subject: `cluster ${cluster}`,
      noun: 'recovery',
    };
  },
};

/**
 * `kubeha failover start -f`: FailoverToEast by hand, under the id the webhook uses for the pair, so an
 * alert delivered later signals this run instead of starting a second one.
 */
export const failoverStartVerb: StartVerb = {
  name: 'start',
  workflowType: 'FailoverToEast',
  description: 'validate an input file, start FailoverToEast for a pair by hand and follow it',
  example: 'examples/failover-to-east.json',
  describeRun(file) {
    const { raw, parsed } = readWorkflowInput(file, failoverToEastInputSchema, this.workflowType);
    const { west, east } = parsed;
    return {
      workflowType: this.workflowType,
      workflowId: failoverWorkflowId(west.name, east.name),
      raw,
      cluster: west.name,
      subject: `pair ${west.name} → ${east.name}`,
      noun: 'failover',
    };
  },
};

/** Runs a starting verb: validation first, so a bad file never reaches Temporal. */
export async function runStartVerb(verb: StartVerb, options: StartVerbOptions, out: ViewOutput = process.stdout): Promise<void> {
  const run = verb.describeRun(options.file);
  await startRun({ ...run, workflowId: options.id ?? run.workflowId, follow: !options.detach && options.follow !== false }, out);
}

/** Adds a starting verb to `parent` (the program, or `kubeha failover`). */
export function registerStartVerb(parent: Command, verb: StartVerb): Command {
  return parent
    .command(verb.name)
    .description(verb.description)
    .requiredOption('-f, --file <input.json>', `the workflow input (see ${verb.example})`)
    .option('--id <workflowId>', 'workflow id instead of the default')
    .option('--detach', 'return once the run is started (follow it later with `kubeha status`)')
    .addHelpText('after', `\n${stepsHelp(verb.workflowType)}`)
    .action((options: StartVerbOptions) => runStartVerb(verb, options));
}
