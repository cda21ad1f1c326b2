/**
 * `kubeha dev`, `kubeha start` and `kubeha worker`: run Temporal and the worker on this machine.
 */
import { codecServerService } from '../codecServer';
import path from 'node:path';
import { temporalSettings } from '../../lib/config';
import { logLevel } from '../../lib/logging';
import { dataDir } from '../../lib/paths';
import { connectClient, requireCommandKeys, temporalConnectionOptions } from '../connection';
import { requireSecretStore } from '../secretStore';
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
  /**
   * Require the codec access token to decode even for this machine's browser (default false: the local
   * stack's codec server decodes for loopback callers, so the Web UI shows payloads on the first click).
   */
  codecAuth?: boolean;
  /** `kubeha start` only: bring up the local lab and bootstrap its west cluster (default true). */
  lab?: boolean;
  /** `kubeha start` only: the lab's topology file. */
  topology?: string;
  /** Log the worker's info lines too (the bundler's report among them). */
  verbose?: boolean;
}

function stackContext(): StackContext {
  sayNodeSupport();
  return { settings: temporalSettings(), say: (line) => process.stdout.write(`${line}\n`) };
}

/** The oldest Node.js major kubeha supports on its own (the current LTS lines are 22 and 24). */
export const SUPPORTED_NODE_MAJOR = 22;

/**
 * One line instead of the AWS SDK's eight when Node is older than kubeha supports: the fact stays said,
 * at the start, not in the middle of a run's steps.
 */
export function sayNodeSupport(version = process.versions.node, write: (line: string) => unknown = (line) => process.stderr.write(line)): void {
  const major = Number(version.split('.')[0]);
  if (major >= SUPPORTED_NODE_MAJOR) return;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  write(
    `note: Node.js ${version} is past its end of life; run kubeha on Node.js ${SUPPORTED_NODE_MAJOR} or 24 (the AWS SDK requires ${SUPPORTED_NODE_MAJOR}+ from January 2027)\n`,
  );
}

/** The services of `kubeha dev`: the dev server, then the worker. */
export function devServices(options: DevOptions): LocalService[] {
  const codec =
    options.codec === false
      ? undefined
      : codecServerService({
          host: '127.0.0.1',
          port: options.codecPort ?? 8888,
          allowOrigin: [`http://127.0.0.1:${options.uiPort}`, `http://localhost:${options.uiPort}`],
          trustLoopback: options.codecAuth !== true,
        });
  const services: LocalService[] = [
    ...(codec ? [codec] : []),
    devServerService({ dataDir: path.resolve(options.dataDir ?? dataDir()), port: options.port, uiPort: options.uiPort, uiCodecEndpoint: codec?.url }),
  ];
  if (options.worker) services.push(workerService(logLevel(process.env, options.verbose)));
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
export async function workerCommand(options: { verbose?: boolean } = {}): Promise<void> {
  // The address the connection settings resolve (TEMPORAL_ADDRESS, else the temporal.toml profile's).
  const settings = { ...temporalSettings(), address: temporalConnectionOptions().address };
  requireCommandKeys('kubeha worker');
  await requireSecretStore();
  // Check first, so an absent Temporal gives the same clear message as every other command.
  await (await connectClient(settings)).close();
  sayNodeSupport();
  await runLocalStack([workerService(logLevel(process.env, options.verbose))], { settings, say: (line) => process.stdout.write(`${line}\n`) });
}
