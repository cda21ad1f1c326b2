/**
 * LAB EMULATION of the `linkerd` CLI (lab/README.md, "Lab linkerd"): the commands and flags kubeha's
 * mesh driver runs, with the real CLI's output formats and exit codes. Rendering commands print YAML;
 * checks read the cluster named by `--kubeconfig`/`--context` and exit 1 when a check fails.
 */
import { readFileSync } from 'node:fs';
import { all, flag, isOn, parseDuration, parseFlags, type FlagSpec, UsageError } from './args';
import { type Category, renderJson, renderTable, runChecks } from './checks';
import { CheckedCluster } from './cluster';
import { renderControlPlane } from './controlPlane';
import { coreCategories } from './coreChecks';
import { renderCrds } from './crds';
import { gatewayRows, hasExtension, renderGateways } from './gateways';
import { openCluster, readSelectedKubeconfig, type KubeSelection } from './kube';
import { renderLink } from './link';
import { renderYaml } from './manifest';
import { renderMulticluster } from './multicluster';
import { multiclusterCategory } from './multiclusterChecks';
import { CONTROL_PLANE_NAMESPACE, LAB_LINKERD_VERSION, MULTICLUSTER_EXTENSION, EXTENSION_LABEL } from './names';

/** What a command run produced. */
export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A command: its words, flags and action. */
interface Command {
  words: string[];
  flags: FlagSpec;
  run: (args: ReturnType<typeof parseFlags>, ctx: Context) => Promise<CliResult>;
}

interface Context {
  version: string;
  selection: KubeSelection;
  namespace: string;
}

const ok = (stdout: string, stderr = ''): CliResult => ({ stdout, stderr, exitCode: 0 });

/** Reads a file named by a flag, with the CLI's error on failure. */
function readFlagFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

async function check(categories: Category[], args: ReturnType<typeof parseFlags>): Promise<CliResult> {
  const output = flag(args, 'output') ?? 'table';
  if (!['table', 'json', 'short'].includes(output))
    throw new UsageError(`Validation error when executing check command: Invalid output type '${output}'. Supported output types are: json, table, short`);
  const run = await runChecks(categories, parseDuration(flag(args, 'wait') ?? '5m'));
  return { stdout: output === 'json' ? renderJson(run) : renderTable(run), stderr: '', exitCode: run.success ? 0 : 1 };
}

const COMMANDS: Command[] = [
  {
    words: ['version'],
    flags: { values: ['namespace', 'proxy'], switches: ['client', 'short', 'proxy'], short: { n: 'namespace' } },
    run: async (args, ctx) => {
      if (!isOn(args, 'client')) throw new UsageError('the lab linkerd answers only `version --client` (it reads no control plane version)');
      return ok(isOn(args, 'short') ? `${ctx.version}\n` : `Client version: ${ctx.version}\n`);
    },
  },
  {
    words: ['install'],
    flags: {
      values: ['identity-trust-anchors-file', 'identity-issuer-certificate-file', 'identity-issuer-key-file', 'set', 'output', 'values'],
      switches: ['crds', 'ignore-cluster', 'ha'],
      short: { o: 'output', f: 'values' },
    },
    run: async (args, ctx) => {
      if (isOn(args, 'crds')) return ok(renderYaml(renderCrds(ctx.version)));
      const files = ['identity-trust-anchors-file', 'identity-issuer-certificate-file', 'identity-issuer-key-file'].map((name) => flag(args, name));
      if (files.some((f) => !f))
        throw new UsageError(
          'the lab linkerd renders only with --identity-trust-anchors-file, --identity-issuer-certificate-file and --identity-issuer-key-file (it generates no certificates)',
        );
      const [anchors, crt, key] = (files as string[]).map(readFlagFile);
      const objects = renderControlPlane({
        namespace: ctx.namespace,
        version: ctx.version,
        anchorsPem: anchors,
        issuerCrtPem: crt,
        issuerKeyPem: key,
        set: all(args, 'set'),
      });
      return ok(renderYaml(objects));
    },
  },
  {
    words: ['check'],
    flags: { values: ['output', 'wait', 'namespace', 'expected-version'], switches: ['pre', 'proxy', 'crds'], short: { o: 'output', n: 'namespace' } },
    run: async (args, ctx) => {
      const cluster = new CheckedCluster(ctx.selection, ctx.namespace);
      return check(coreCategories(cluster, ctx.version, isOn(args, 'pre')), args);
    },
  },
  {
    words: ['multicluster', 'install'],
    flags: { values: ['set', 'namespace'], switches: ['gateway', 'ha'] },
    run: async (args, ctx) => {
      const set = all(args, 'set');
      if (flag(args, 'gateway') === 'false') set.unshift('gateway.enabled=false');
      return ok(renderYaml(renderMulticluster(ctx.version, set)));
    },
  },
  ...(['link', 'link-gen'] as const).map((command): Command => ({
    words: ['multicluster', command],
    flags: {
      values: ['cluster-name', 'api-server-address', 'service-account-name', 'gateway-addresses', 'gateway-port', 'selector', 'namespace', 'output', 'set'],
      switches: ['gateway'],
      short: { l: 'selector', o: 'output' },
    },
    run: async (args, ctx) => {
      const clusterName = flag(args, 'cluster-name');
      if (!clusterName) throw new UsageError('you need to specify cluster name');
      const kubeconfig = readSelectedKubeconfig(ctx.selection);
      const objects = await renderLink(openCluster(ctx.selection), {
        clusterName,
        kubeconfig,
        controlPlaneNamespace: ctx.namespace,
        version: ctx.version,
        apiServerAddress: flag(args, 'api-server-address'),
        gatewayAddresses: flag(args, 'gateway-addresses'),
        gatewayPort: flag(args, 'gateway-port') ? Number(flag(args, 'gateway-port')) : undefined,
        serviceAccountName: flag(args, 'service-account-name'),
        selector: flag(args, 'selector'),
        legacy: command === 'link',
      });
      // cobra prints a deprecated command's notice before running it.
      const notice = command === 'link' ? 'Command "link" is deprecated, please use `multicluster link-gen` instead.\n' : '';
      return ok(renderYaml(objects), notice);
    },
  })),
  {
    words: ['multicluster', 'check'],
    flags: { values: ['output', 'wait', 'timeout', 'namespace'], switches: ['proxy'], short: { o: 'output', n: 'namespace' } },
    run: async (args, ctx) => {
      const cluster = new CheckedCluster(ctx.selection, ctx.namespace);
      if (!(await hasExtension(cluster.client))) {
        return {
          stdout: '',
          stderr: `namespace with label "${EXTENSION_LABEL}: ${MULTICLUSTER_EXTENSION}" not found; install by running \`linkerd multicluster install | kubectl apply -f -\`\n`,
          exitCode: 1,
        };
      }
      try {
        await cluster.readValues();
      } catch (err) {
        return { stdout: '', stderr: `Failed to fetch linkerd config: ${(err as Error).message}\n`, exitCode: 1 };
      }
      return check([multiclusterCategory(cluster, ctx.version)], args);
    },
  },
  {
    words: ['multicluster', 'gateways'],
    flags: { values: ['cluster-name', 'output', 'wait'], switches: [], short: { o: 'output' } },
    run: async (args, ctx) => ok(renderGateways(await gatewayRows(new CheckedCluster(ctx.selection, ctx.namespace), flag(args, 'cluster-name')))),
  },
];

/** Runs one command line; never throws (errors become cobra's `Error: ...` and exit 1). */
export async function runLinkerd(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  try {
    const words = argv.filter(
      (a, i) => !a.startsWith('-') && !(i > 0 && /^--?[a-zA-Z-]+$/.test(argv[i - 1]) && !argv[i - 1].includes('=') && takesValue(argv[i - 1])),
    );
    const command = [...COMMANDS].sort((a, b) => b.words.length - a.words.length).find((c) => c.words.every((w, i) => words[i] === w));
    if (!command) throw new UsageError(`unknown command "${words.join(' ')}" for "linkerd"`);
    const args = parseFlags(argv, command.flags);
    const extra = args.words.slice(command.words.length);
    if (extra.length) throw new UsageError(`unknown command "${extra[0]}" for "linkerd ${command.words.join(' ')}"`);
    const ctx: Context = {
      version: env.LINKERD_LAB_VERSION || LAB_LINKERD_VERSION,
      selection: { kubeconfig: flag(args, 'kubeconfig'), context: flag(args, 'context') },
      namespace: flag(args, 'linkerd-namespace') ?? CONTROL_PLANE_NAMESPACE,
    };
    return await command.run(args, ctx);
  } catch (err) {
    return { stdout: '', stderr: `Error: ${(err as Error).message}\n`, exitCode: 1 };
  }
}

/** Flags that take a value, to tell a flag's value from a command word before the command is known. */
function takesValue(arg: string): boolean {
  const name = arg.replace(/^--?/, '');
  return COMMANDS.some(
    (c) => c.flags.values.includes(name) || Object.entries(c.flags.short ?? {}).some(([s, long]) => s === name && c.flags.values.includes(long)),
  )
    ? !COMMANDS.some((c) => c.flags.switches.includes(name))
    : ['kubeconfig', 'context', 'linkerd-namespace', 'L', 'api-addr', 'as', 'as-group'].includes(name);
}

if (require.main === module) {
  runLinkerd(process.argv.slice(2)).then(
    (result) => {
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.exitCode;
    },
    (err: Error) => {
      process.stderr.write(`Error: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
