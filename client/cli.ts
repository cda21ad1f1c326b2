/**
 * The `kubeha` command line (bin/kubeha.js calls {@link main}).
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { bootstrapCommand } from './commands/bootstrap';
import { devCommand, startCommand, workerCommand, type DevOptions } from './commands/dev';
import { signalCommand } from './commands/signal';
import { statusCommand } from './commands/status';
import { statusListCommand } from './commands/statusList';
import { registerFailoverCommands } from './commands/failover';
import { linkVerb, recoverVerb, registerStartVerb, rotateVerb } from './commands/workflowVerbs';
import { registerCompletionCommand } from './commands/completion';
import { BOOTSTRAP_WORKFLOW } from './commands/bootstrap';
import { registerStepsCommand } from './commands/steps';
import { registerReportCommand } from './commands/report';
import { stepsHelp } from './stepDocs';
import { registerCheckMeshCommand } from './checkMesh';
import { registerLabCommands } from './commands/lab';
import { registerCodecServerCommand } from './codecServer';
import { surviveClosedOutput } from './brokenPipe';
import { CliError } from './connection';
import { registerScheduleCommands } from './schedule';
import { registerBackupCommands } from './commands/backup';
import { registerWebhookCommand } from './webhook/command';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number from 1 to 65535');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

/** Adds the options `dev` and `start` share. */
function withLocalStackOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'where the dev server keeps its SQLite file and log (default: KUBEHA_DATA_DIR or .kubeha)')
    .option('--port <port>', 'Temporal frontend (gRPC) port', port, 7233)
    .option('--ui-port <port>', 'Temporal Web UI port', port, 8233)
    .option('--no-worker', 'do not run the kubeha worker in this process')
    .option('--codec-port <port>', 'port of the codec server the Web UI decodes payloads through', port, 8888)
    .option('--no-codec', 'run no codec server (the Web UI then shows encrypted payloads)')
    .option('--codec-auth', "require the codec access token even for this machine's browser (default: local callers decode without login)")
    .option('--verbose', "log the worker's info lines too (KUBEHA_LOG_LEVEL sets any level)");
}

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command('kubeha').description('Durable Temporal workflows for highly available Kubernetes clusters.').showHelpAfterError().exitOverride();

  program
    .command('worker')
    .description('run the kubeha worker against TEMPORAL_ADDRESS until SIGINT/SIGTERM')
    .option('--verbose', "log the worker's info lines too (KUBEHA_LOG_LEVEL sets any level)")
    .action((options: { verbose?: boolean }) => workerCommand(options));

  withLocalStackOptions(program.command('dev'))
    .description('run a local Temporal dev server (with Web UI) and the worker; Ctrl-C stops both')
    .action((options: DevOptions) => devCommand(options));

  withLocalStackOptions(program.command('start'))
    .description("what `npm start` runs: everything of `dev`, the local lab, and BootstrapStackedEtcd on the lab's west cluster")
    .option('--no-lab', 'run no lab (only the dev server, codec server and worker)')
    .option('--topology <file>', 'the lab topology (default: west 3+1 spare+2 workers, east 1+1)')
    .action((options: DevOptions) => startCommand(options));

  program
    .command('bootstrap')
    .description('validate an input file, start BootstrapStackedEtcd and follow its progress')
    .requiredOption('-f, --file <input.json>', 'the workflow input (see examples/bootstrap-stacked-etcd.json)')
    .option('--id <workflowId>', 'workflow id (default: bootstrap-<clusterName>, one open run per cluster)')
    .option('--no-follow', 'print the links and return once the workflow is started')
    .option('--detach', 'the same as --no-follow, as the other verbs spell it')
    .addHelpText('after', `\n${stepsHelp(BOOTSTRAP_WORKFLOW)}`)
    .action((options: { file: string; id?: string; follow: boolean; detach?: boolean }) =>
      bootstrapCommand({ file: options.file, id: options.id, follow: options.follow && !options.detach }),
    );

  registerStartVerb(program, linkVerb);
  registerStartVerb(program, rotateVerb);
  registerStartVerb(program, recoverVerb);
  registerFailoverCommands(program);
  registerStepsCommand(program);
  registerReportCommand(program);

  program
    .command('status')
    .description("show a workflow's state and its progress; without an id, list kubeha's runs by cluster")
    .argument('[workflowId]')
    .option('--json', 'print JSON', false)
    .option('--query-timeout <seconds>', 'how long to wait for a worker to answer the progress query', seconds, 5)
    .option('--cluster <name>', "list only this cluster's runs (without an id)")
    .option('--open', 'list only runs still open (without an id)', false)
    .option('--limit <count>', 'list at most this many runs, newest first (without an id)', count, 50)
    .action((workflowId: string | undefined, options: { json: boolean; queryTimeout: number; cluster?: string; open: boolean; limit: number }) =>
      workflowId
        ? statusCommand(workflowId, { json: options.json, queryTimeoutSeconds: options.queryTimeout })
        : statusListCommand({ cluster: options.cluster, open: options.open, limit: options.limit, json: options.json }),
    );

  program
    .command('retry')
    .description('run the failed step of a held workflow again (after fixing its cause)')
    .argument('<workflowId>')
    .action((workflowId: string) => signalCommand(workflowId, 'retry'));

  program
    .command('abort')
    .description('stop a held workflow instead of retrying its failed step')
    .argument('<workflowId>')
    .argument('[reason]', "recorded in the run's failure", 'aborted by operator')
    .action((workflowId: string, reason: string) => signalCommand(workflowId, 'abort', reason));

  for (const answer of ['approve', 'reject'] as const) {
    program
      .command(answer)
      .description(`${answer} a run that waits for approval (RecoverControlPlane, FailoverToEast), signed with your user name`)
      .argument('<workflowId>')
      .argument('[comment]', 'recorded with the decision')
      .action((workflowId: string, comment?: string) => signalCommand(workflowId, answer, comment));
  }

  registerBackupCommands(program, registerScheduleCommands(program));
  registerCodecServerCommand(program);
  registerWebhookCommand(program);
  registerCheckMeshCommand(program);
  registerLabCommands(program);
  registerCompletionCommand(program);
  return program;
}

/**
 * Runs the command line `argv` (as `process.argv`: node, script, arguments). Command-line and
 * {@link CliError} failures are printed and set `process.exitCode` (2 for bad input or usage, 1 for a
 * failed operation); other errors propagate.
 */
export async function main(argv: string[]): Promise<void> {
  // A reader that goes away (a pipe to tee, closed on Ctrl-C) must not stop a clean-up halfway.
  surviveClosedOutput();
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the message (or the help) already.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}

// The compiled module also runs directly (`node dist/client/cli.js ...`), the way bin/kubeha.js runs it:
// that lets a build in another output directory be exercised as a whole command.
if (require.main === module) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
