/**
 * `kubeha lab up|down|status|fault|kubeconfig|env`: the local lab (lab/README.md). `registerLabCommands`
 * adds them to the program; it also gives `kubeha start`, `dev` and `worker` the lab's dummy AWS
 * credentials (and the lab linkerd) when a lab is up, so their worker can call the lab's AWS front.
 */
import type { Command } from 'commander';
import { dataDir } from '../../lib/paths';
import { CliError } from '../connection';

/** Loaded on demand: the lab pulls in the AWS SDK, which most commands never need. */
const lab = () => import('../../lab/orchestrator/index.js');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function failing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message, 1);
  }
}

/** The commands that run a worker in this process and must reach the lab's AWS. */
const WORKER_COMMANDS = new Set(['start', 'dev', 'worker']);

/** Whether a lab is up: its state.json names a running AWS supervisor. */
async function labIsUp(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const { readLabState, labPaths } = await lab();
  const { isAlive } = await import('../../lab/tools/processes.js');
  const state = readLabState(labPaths(dataDir(env)));
  return Boolean(state?.aws && isAlive(state.aws.supervisor));
}

/**
 * When a lab is up (its state.json names a running AWS supervisor), sets the lab's dummy AWS
 * credentials where the environment has none, and the lab linkerd as LINKERD_PATH unless one is set.
 * Returns the names it set.
 */
export async function applyLabEnvironmentIfUp(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (!(await labIsUp(env))) return [];
  const { applyLabAwsEnvironment, applyLabLinkerdEnvironment } = await lab();
  return [...applyLabAwsEnvironment(env), ...applyLabLinkerdEnvironment(env)];
}

/** Adds `kubeha lab ...` to `program`. */
export function registerLabCommands(program: Command): void {
  const labCommand = program
    .command('lab')
    .description('a local lab of hosts (sshd in mount namespaces), AWS (moto + NLB data plane) and Kubernetes to run kubeha against');

  labCommand
    .command('up')
    .description('start the lab (or complete a half-started one) and write workflow inputs into <data-dir>/lab/inputs')
    .option('--topology <file>', 'a topology JSON file (default: west 3 control planes + 1 spare + 2 workers, east 1 + 1)')
    .action((options: { topology?: string }) =>
      failing(async () => {
        const { labUp, labAwsExports } = await lab();
        const result = await labUp({ topologyFile: options.topology, say });
        say(`lab ${result.started ? 'up' : 'already up'} in ${(result.ms / 1000).toFixed(1)} s: ${result.paths.labDir}`);
        say(`AWS front (aws.endpoint): ${result.state.aws?.endpoint}`);
        for (const [cluster, file] of Object.entries(result.state.inputs)) say(`input for ${cluster}: ${file}   (kubeha bootstrap -f ${file})`);
        say('');
        say('`kubeha start` sets these itself while the lab is up; for a worker started otherwise:');
        for (const line of labAwsExports()) say(`  ${line}`);
      }),
    );

  labCommand
    .command('down')
    .description('stop everything of the lab: AWS supervisor and moto, every host and its processes, the /etc/hosts block')
    .option('--keep-files', "keep the hosts' files (etc/kubernetes, var/lib/etcd, logs)", false)
    .action((options: { keepFiles: boolean }) =>
      failing(async () => {
        const { labDown } = await lab();
        const report = await labDown({ keepFiles: options.keepFiles });
        say(
          `lab down: ${report.stoppedHosts.length} host(s) stopped${report.stoppedAws ? ', AWS stopped' : ''}${report.removedMountPoints.length ? `, removed ${report.removedMountPoints.join(' ')}` : ''}`,
        );
      }),
    );

  labCommand
    .command('status')
    .description('hosts, what runs on them, etcd and API health, load balancers and target states')
    .option('--json', 'print JSON', false)
    .action((options: { json: boolean }) =>
      failing(async () => {
        const { labStatus, formatLabStatus } = await lab();
        const status = await labStatus();
        if (options.json) say(JSON.stringify({ ...status, state: undefined }, null, 2));
        else for (const line of formatLabStatus(status)) say(line);
      }),
    );

  labCommand
    .command('fault')
    .description(
      'inject a fault: host-stop|host-start|ssh-drop|ssh-restore|isolate|rejoin|kill-apiserver|kill-etcd|etcd-wipe|apiserver-stop|apiserver-start <host>, ssh-delay <host> <ms>, aws-throttle|aws-error <n> [action], aws-clear, cni-break|cni-fix, node-notready|node-ready <host>',
    )
    .argument('<fault>')
    .argument('[args...]')
    .action((fault: string, args: string[]) =>
      failing(async () => {
        const { labFault } = await lab();
        say(await labFault(fault, args));
      }),
    );

  labCommand
    .command('kubeconfig')
    .description(
      "once west and east are bootstrapped: write <data-dir>/lab/inputs/kubeconfig (contexts west and east), LinkMeshClusters' and FailoverToEast's inputs and the webhook's routing file; deploy the demo application on both and start the lab's mesh runtime (service load balancers, east's gateway, west's service mirror)",
    )
    .option('--hysteresis <seconds>', "the failover input's failback window in seconds", '30')
    .action((options: { hysteresis: string }) =>
      failing(async () => {
        const hysteresisSeconds = Number(options.hysteresis);
        if (!Number.isInteger(hysteresisSeconds) || hysteresisSeconds < 0)
          throw new CliError(`--hysteresis must be a whole number of seconds, got ${options.hysteresis}`, 2);
        const { writeLabPairFiles, startLabPairMesh } = await import('../../lab/orchestrator/pair.js');
        const files = await writeLabPairFiles({ hysteresisSeconds });
        say(`kubeconfig (contexts west, east): ${files.kubeconfig}\n  west ${files.servers.west}\n  east ${files.servers.east}`);
        const mesh = await startLabPairMesh();
        for (const [cluster, applied] of Object.entries(mesh.demo)) say(`demo application on ${cluster}: ${applied.join(', ')}`);
        for (const [cluster, g] of Object.entries(mesh.greeters)) say(`${cluster}'s demo service for clients outside the mesh: ${g.url} on ${g.host}`);
        say(`lab mesh runtime ${mesh.supervisorStarted ? 'started' : 'already running'} (service load balancers, east's gateway, west's service mirror)`);
        say(`next: kubeha link -f ${files.linkInput}`);
        say(`then FailoverToEast: ${files.failoverInput}; webhook: kubeha webhook --config ${files.webhookConfig}   (Bearer token in ${files.webhookToken})`);
      }),
    );

  labCommand
    .command('env')
    .description('print the environment a worker needs to use the lab (dummy AWS credentials)')
    .action(() =>
      failing(async () => {
        const { labAwsExports } = await lab();
        for (const line of labAwsExports()) say(line);
      }),
    );

  program.hook('preAction', async (_program, actionCommand) => {
    // `kubeha check mesh` runs the linkerd CLI in this process: on the lab, the lab's.
    if (actionCommand.name() === 'mesh' && actionCommand.parent?.name() === 'check') {
      if (await labIsUp()) (await lab()).applyLabLinkerdEnvironment(process.env);
      return;
    }
    if (!WORKER_COMMANDS.has(actionCommand.name()) || actionCommand.parent !== program) return;
    const set = await applyLabEnvironmentIfUp();
    if (set.length) say(`lab is up: using its dummy AWS credentials and linkerd (${set.join(', ')})`);
  });
}
