/**
 * `kubeha dev`, `kubeha start` and `kubeha worker`: run Temporal and the worker on this machine.
 */
import { codecServerService } from '../codecServer';
import path from 'node:path';
import { temporalSettings } from '../../lib/config';
import { dataDir } from '../../lib/paths';
import { CliError, connectClient } from '../connection';
import { assertConfiguredKeys } from '../../lib/codec/keyring';
import { devServerService, noticeService, runLocalStack, workerService, type LocalService, type StackContext } from '../localStack';
import { BOOTSTRAP_WORKFLOW } from './bootstrap';
import { labBootstrapService, labService } from '../labServices';

/** Options of `kubeha dev` and `kubeha start`. */
export interface DevOptions {
  /** Default: kubeha's data directory (KUBEHA_DATA_DIR). */
  dataDir?: string;
  port: number;
  uiPort: number;
  /** Run the worker in this process (default true). */
  worker: boolean;
  /** Port of the codec server the Web UI decodes through. */
  codecPort: number;
  /** Run the codec server (default true). */
  codec: boolean;
  /** `kubeha start` only: bring up the local lab and bootstrap its west cluster (default true). */
  lab?: boolean;
  /** `kubeha start` only: the lab's topology file. */
  topology?: string;
}

function stackContext(): StackContext {
  return { settings: temporalSettings(), say: (line) => process.stdout.write(`${line}\n`) };
}

/** The services of `kubeha dev`: the dev server, then the worker. */
export function devServices(options: DevOptions): LocalService[] {
  const codec =
    options.codec === false
      ? undefined
      : codecServerService({ host: '127.0.0.1', port: options.codecPort ?? 8888, allowOrigin: [`http://127.0.0.1:${options.uiPort}`, `http://localhost:${options.uiPort}`] });
  const services: LocalService[] = [
    ...(codec ? [codec] : []),
    devServerService({ dataDir: path.resolve(options.dataDir ?? dataDir()), port: options.port, uiPort: options.uiPort, uiCodecEndpoint: codec?.url }),
  ];
  if (options.worker) services.push(workerService());
  return services;
}

/** Runs `kubeha dev` until Ctrl-C. */
export async function devCommand(options: DevOptions): Promise<void> {
  await runLocalStack(devServices(options), stackContext());
}

/**
 * The services of `kubeha start` (`npm start`): everything of `dev`, then how to start a workflow.
 * The local lab joins this list as one more service.
 */
export function startServices(options: DevOptions): LocalService[] {
  const inputs: Record<string, string> = {};
  const withLab = options.lab !== false;
  return [
    // The lab first: it sets the AWS environment the worker's SDK reads.
    ...(withLab ? [labService(inputs, { topologyFile: options.topology })] : []),
    ...devServices(options),
    ...(withLab ? [labBootstrapService(inputs, 'west')] : []),
    noticeService('how-to', ({ settings }) => [
      '',
      withLab ? 'kubeha is running with the lab. Start more workflows:' : 'kubeha is running. Start a bootstrap:',
      withLab ? `  kubeha bootstrap -f ${inputs.east ?? '<lab dir>/inputs/bootstrap-east.json'}` : '  kubeha bootstrap -f examples/bootstrap-stacked-etcd.json',
      `or in the Web UI (${settings.uiUrl}/namespaces/${settings.namespace}/workflows): "Start Workflow" with`,
      `  workflow type ${BOOTSTRAP_WORKFLOW}, task queue ${settings.taskQueue}, and the input JSON as the only argument.`,
      'Ctrl-C stops everything.',
    ]),
  ];
}

/** Runs `kubeha start` until Ctrl-C. */
export async function startCommand(options: DevOptions): Promise<void> {
  await runLocalStack(startServices(options), stackContext());
}

/** Runs `kubeha worker` until SIGINT/SIGTERM, against the Temporal named by the environment. */
export async function workerCommand(): Promise<void> {
  try {
    assertConfiguredKeys(process.env, 'kubeha worker');
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const settings = temporalSettings();
  // Check first, so an absent Temporal gives the same clear message as every other command.
  await (await connectClient(settings)).close();
  await runLocalStack([workerService()], { settings, say: (line) => process.stdout.write(`${line}\n`) });
}
